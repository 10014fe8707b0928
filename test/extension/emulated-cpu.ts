// Helpers for running the extension binaries on emulated CPUs with qemu-user: an arm64 machine for the
// arm64 build, and an x86-64 CPU without AVX and AVX2 (Nehalem) for the baseline amd64 build.
import { writeFileSync } from 'node:fs';

/** A CPU model with SSE4.2 and POPCNT but neither AVX nor AVX2 (what Bun's baseline build targets). */
export const NO_AVX2_CPU = 'Nehalem';

/**
 * A minimal static x86-64 executable that executes one AVX2 instruction (vpaddd ymm2, ymm1, ymm0) and then
 * exit(0). Under a CPU without AVX2 it dies of SIGILL: the control that proves the emulated CPU really
 * lacks AVX2, so a binary that runs there does not depend on it along the path it took.
 */
export function writeAvx2Probe(path: string): void {
  const base = 0x400000;
  const code = [0xc5, 0xf5, 0xfe, 0xd0, /* mov eax, 60 */ 0xb8, 0x3c, 0, 0, 0, /* xor edi, edi */ 0x31, 0xff, /* syscall */ 0x0f, 0x05];
  const headerSize = 64 + 56;
  const bytes = new Uint8Array(headerSize + code.length);
  const v = new DataView(bytes.buffer);
  bytes.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF, 64-bit, little-endian, version 1
  v.setUint16(16, 2, true); // ET_EXEC
  v.setUint16(18, 62, true); // EM_X86_64
  v.setUint32(20, 1, true);
  v.setBigUint64(24, BigInt(base + headerSize), true); // entry
  v.setBigUint64(32, 64n, true); // program headers right after this header
  v.setUint16(52, 64, true);
  v.setUint16(54, 56, true);
  v.setUint16(56, 1, true);
  // One PT_LOAD, readable and executable, mapping the whole file at `base`.
  v.setUint32(64, 1, true);
  v.setUint32(68, 5, true);
  v.setBigUint64(72, 0n, true);
  v.setBigUint64(80, BigInt(base), true);
  v.setBigUint64(88, BigInt(base), true);
  v.setBigUint64(96, BigInt(bytes.length), true);
  v.setBigUint64(104, BigInt(bytes.length), true);
  v.setBigUint64(112, 0x1000n, true);
  bytes.set(code, headerSize);
  writeFileSync(path, bytes, { mode: 0o755 });
}

/**
 * The argv that runs `binary` (inside `root`) under qemu-user, with `root` as the only place its loader and
 * libraries can come from: qemu looks up absolute paths under -L first and falls back to the host, so any
 * host library directory of that architecture is hidden first, in a private mount namespace.
 */
export function qemuCommand(options: { qemu: string[]; root: string; args: string[]; hostLibPaths: string[] }): string[] {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const hide = options.hostLibPaths.map((p) => `if [ -d ${q(p)} ]; then mount -t tmpfs none ${q(p)}; elif [ -e ${q(p)} ]; then mount --bind /dev/null ${q(p)}; fi`);
  const run = `exec ${[...options.qemu, '-L', options.root, `${options.root}/autobootstrap`, ...options.args].map(q).join(' ')}`;
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', ['set -eu', ...hide, run].join('\n')];
}
