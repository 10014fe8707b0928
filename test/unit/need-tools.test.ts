// scripts/need-tools.sh, the Makefile's tool check: finds tools outside PATH in the sbin directories, and
// for a missing one names it with the exact command that installs it instead of failing inside apt-get.
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = join(import.meta.dir, '../../scripts/need-tools.sh');
const dir = mkdtempSync(join(tmpdir(), 'ab-need-tools-'));
const sbin = join(dir, 'sbin');
mkdirSync(sbin);
writeFileSync(join(sbin, 'mkfs.fake'), '#!/bin/sh\n');
chmodSync(join(sbin, 'mkfs.fake'), 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function check(args: string[]): { code: number; stderr: string } {
  // A PATH without any sbin directory, as a normal user's often is; never installs (even as root).
  const r = Bun.spawnSync(['bash', SCRIPT, 'demo', ...args], {
    env: { PATH: '/usr/bin:/bin', SBIN_DIRS: sbin, AUTOBOOTSTRAP_NO_INSTALL: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  });
  return { code: r.exitCode ?? -1, stderr: r.stderr.toString() };
}

describe('need-tools.sh', () => {
  test('a tool only in an sbin directory counts as present', () => {
    expect(check(['mkfs.fake=fakeprogs', 'bash=bash'])).toEqual({ code: 0, stderr: '' });
  });

  test('missing tools are named with the packages and the exact install command; nothing is installed', () => {
    const r = check(['no-such-tool-a=pkg-a', 'no-such-tool-b=pkg-a', 'no-such-tool-c=pkg-c', 'bash=bash']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('make demo needs: no-such-tool-a no-such-tool-b no-such-tool-c');
    expect(r.stderr).toMatch(/apt-get update && (sudo )?apt-get install -y --no-install-recommends pkg-a pkg-c\n/);
    expect(r.stderr).not.toContain('installing');
  });

  test('make demo asks for no system tool: it depends only on the binary', () => {
    const makefile = readFileSync(join(import.meta.dir, '../../Makefile'), 'utf8');
    const demo = /^demo: (.*)$/m.exec(makefile)?.[1];
    // Not even Go: the demo uses the oracle's generated configs only when `make oracle` has built them
    // (scripts/demo-configs.ts), so a first run needs nothing but Node's packages.
    expect(demo?.trim()).toBe('build');
    const oracle = /^\$\(ORACLE\): (.*)$/m.exec(makefile)?.[1] ?? '';
    expect(oracle).not.toMatch(/tools|deps/);
    const build = /^dist\/autobootstrap: (.*)$/m.exec(makefile)?.[1] ?? '';
    expect(build).not.toMatch(/tools|deps/);
  });
});
