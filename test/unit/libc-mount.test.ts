// The bun:ffi adapter itself: failures come back as the kernel's errno (read through __errno_location),
// not as -1 or a stale value. Uses only calls that fail, so it needs no device and changes nothing.
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lazyLibcMount, libcMount } from '../../src/host/mount/libc.ts';
import { errnoName, MNT_DETACH, READ_ONLY_INERT } from '../../src/host/mount/syscalls.ts';

const root = process.getuid?.() === 0;

describe('libc mount(2)/umount2(2) through bun:ffi', () => {
  test('mounting a device that does not exist: ENOENT as root (EPERM otherwise)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ab-ffi-'));
    try {
      const errno = libcMount().mount('/dev/autobootstrap-no-such-device', dir, 'xfs', READ_ONLY_INERT);
      expect(errnoName(errno)).toBe(root ? 'ENOENT' : 'EPERM');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('unmounting a directory that is not a mount point: EINVAL as root, and the errno of each call is its own', () => {
    const sys = lazyLibcMount();
    const dir = mkdtempSync(join(tmpdir(), 'ab-ffi-'));
    try {
      expect(errnoName(sys.umount2(dir, 0))).toBe(root ? 'EINVAL' : 'EPERM');
      expect(errnoName(sys.umount2(join(dir, 'missing'), MNT_DETACH))).toBe(root ? 'ENOENT' : 'EPERM');
      expect(errnoName(sys.umount2(dir, MNT_DETACH))).toBe(root ? 'EINVAL' : 'EPERM');
    } finally {
      rmSync(dir, { recursive: true });
    }
  });
});
