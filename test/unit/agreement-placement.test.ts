// The state directory must be on the host's mounted /var: mountinfo parsing, the visible mount, dev_t.
import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStatePlacement, mountFor, parseMountInfo, splitDev } from '../../src/agreement/storage/on-ephemeral.ts';

const MOUNTINFO = [
  '22 1 0:21 / / ro,relatime - squashfs /dev/loop0 ro',
  '30 22 0:25 / /var rw,relatime - tmpfs tmpfs rw',
  '41 22 259:6 / /var rw,relatime shared:20 - xfs /dev/nvme0n1p6 rw',
  '42 41 259:7 / /var/lib/etcd rw,relatime - xfs /dev/nvme0n1p7 rw',
  '43 22 0:50 / /with\\040space rw - tmpfs tmpfs rw',
].join('\n');

describe('state directory placement', () => {
  test('the last mount over /var is the one that counts; deeper mounts win', () => {
    const entries = parseMountInfo(MOUNTINFO);
    expect(mountFor(entries, '/var/lib/autobootstrap')).toMatchObject({ major: 259, minor: 6, mountPoint: '/var' });
    expect(mountFor(entries, '/var/lib/etcd/member')).toMatchObject({ major: 259, minor: 7 });
    expect(mountFor(entries, '/variable')).toMatchObject({ mountPoint: '/' });
    expect(mountFor(entries, '/with space/x')).toMatchObject({ major: 0, minor: 50 });
  });

  test('dev_t splits as glibc does', () => {
    expect(splitDev((259n << 8n) | 6n)).toEqual({ major: 259, minor: 6 });
    // glibc's makedev for major 0x1234, minor 0x56789: the high bits of each live above bit 32 and bit 20.
    const major = 0x1234n;
    const minor = 0x56789n;
    const dev = ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
    expect(splitDev(dev)).toEqual({ major: 0x1234, minor: 0x56789 });
  });

  test('a directory on the mounted filesystem passes; one on another device is refused with the reason', () => {
    const root = mkdtempSync(join(tmpdir(), 'placement-'));
    try {
      const dir = join(root, 'var-lib-autobootstrap');
      mkdirSync(dir);
      const { major, minor } = splitDev(statSync(dir, { bigint: true }).dev);
      const proc = join(root, 'proc');
      mkdirSync(join(proc, '1'), { recursive: true });
      writeFileSync(join(proc, '1', 'mountinfo'), `22 1 ${major}:${minor} / / rw - ext4 /dev/x rw\n`);
      expect(checkStatePlacement(dir, proc)).toMatchObject({ kind: 'ok' });
      writeFileSync(join(proc, '1', 'mountinfo'), `22 1 ${major}:${minor} / / rw - ext4 /dev/x rw\n41 22 ${major + 1}:${minor} / ${root} rw - xfs /dev/y rw\n`);
      const c = checkStatePlacement(dir, proc);
      expect(c.kind).toBe('wrong-filesystem');
      if (c.kind === 'wrong-filesystem') expect(c.message).toContain('before Talos mounted EPHEMERAL');
      expect(checkStatePlacement(dir, join(root, 'no-proc')).kind).toBe('unchecked');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
