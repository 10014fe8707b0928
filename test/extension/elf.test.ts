// Each architecture's binary is an ELF of that architecture whose interpreter and libraries are inside
// its own container root (the only filesystem it sees on a node), resolved as the kernel and loader would.
import { describe, expect, test } from 'bun:test';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHS, containerRoot, requireBuilt, type Arch } from './build-outputs.ts';
import { EM_AARCH64, EM_X86_64, readElf } from './elf.ts';
import { resolveInRoot } from './image-root-rules.ts';

const EXPECTED: Record<Arch, { machine: number; interpreter: string; libDir: string }> = {
  amd64: { machine: EM_X86_64, interpreter: '/lib64/ld-linux-x86-64.so.2', libDir: '/lib/x86_64-linux-gnu' },
  arm64: { machine: EM_AARCH64, interpreter: '/lib/ld-linux-aarch64.so.1', libDir: '/lib/aarch64-linux-gnu' },
};

describe('binaries and their loaders', () => {
  for (const arch of ARCHS) {
    test(`linux/${arch}: ELF machine, interpreter and every needed library inside its own root`, () => {
      const root = requireBuilt(containerRoot(arch), 'rootfs');
      const binary = readElf(new Uint8Array(readFileSync(join(root, 'autobootstrap'))));
      const want = EXPECTED[arch];
      expect(binary.machine).toBe(want.machine);
      expect(binary.interpreter).toBe(want.interpreter);

      const loader = resolveInRoot(root, binary.interpreter!);
      expect(loader).toBeDefined();
      expect(lstatSync(loader!).isFile()).toBe(true);
      // The loader and every library are of the same architecture (a wrong-arch libc6 would load nothing).
      expect(readElf(new Uint8Array(readFileSync(loader!))).machine).toBe(want.machine);

      expect(binary.needed.length).toBeGreaterThan(0);
      // libc.so.6 is also what bun:ffi opens for mount(2) at run time.
      for (const lib of new Set([...binary.needed, 'libc.so.6'])) {
        const path = resolveInRoot(root, `${want.libDir}/${lib}`);
        expect([lib, path !== undefined]).toEqual([lib, true]);
        const elf = readElf(new Uint8Array(readFileSync(path!)));
        expect([lib, elf.machine]).toEqual([lib, want.machine]);
      }
    });
  }

  test('the parser reads what it claims (checked against a known host binary shape)', () => {
    const self = readElf(new Uint8Array(readFileSync(process.execPath)));
    expect(self.machine).toBe(process.arch === 'arm64' ? EM_AARCH64 : EM_X86_64);
    expect(self.needed).toContain('libc.so.6');
    expect(() => readElf(new TextEncoder().encode('#!/bin/sh\n'))).toThrow(/not an ELF/);
  });
});
