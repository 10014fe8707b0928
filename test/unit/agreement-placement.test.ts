// The state directory must be on the host's mounted /var: mountinfo parsing, the visible mount, dev_t.
import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStatePlacement, hostPathOf, mountFor, parseMountInfo, splitDev } from '../../src/agreement/storage/on-ephemeral.ts';
import { renderMountInfo } from '../sim/host-root.ts';

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
    expect(mountFor(entries, '/var/lib/autobootstrap')).toMatchObject({ major: 259, minor: 6, mountPoint: '/var', fsType: 'xfs' });
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

  test('the filesystem type is the field after the separator, whatever the optional fields', () => {
    expect(parseMountInfo(MOUNTINFO).map((e) => e.fsType)).toEqual(['squashfs', 'tmpfs', 'xfs', 'xfs', 'tmpfs']);
  });

  /** A host root with host/proc/1/mountinfo = `mountinfo(dev)` and the state directory at var/lib/autobootstrap. */
  function withHost(mountinfo: ((d: string) => string) | undefined, f: (stateDir: string, proc: string, root: string) => void): void {
    const root = mkdtempSync(join(tmpdir(), 'placement-'));
    try {
      const stateDir = join(root, 'var/lib/autobootstrap');
      mkdirSync(stateDir, { recursive: true });
      const { major, minor } = splitDev(statSync(stateDir, { bigint: true }).dev);
      const proc = join(root, 'host/proc');
      mkdirSync(join(proc, '1'), { recursive: true });
      if (mountinfo) writeFileSync(join(proc, '1', 'mountinfo'), mountinfo(`${major}:${minor}`));
      f(stateDir, proc, root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }
  const ROOT_LINE = '22 1 7:0 / / ro,relatime - squashfs /dev/loop0 ro\n';

  test('xfs on /var (EPHEMERAL mounted), same device: accepted', () => {
    withHost((d) => `${ROOT_LINE}41 22 ${d} / /var rw,relatime shared:20 - xfs /dev/vda6 rw\n`, (dir, proc, root) => {
      expect(checkStatePlacement(dir, proc, root)).toEqual({ kind: 'ok', mountPoint: '/var', fsType: 'xfs' });
    });
  });

  test('a tmpfs /var (EPHEMERAL not mounted yet), even on the same device: refused with path, finding and expectation', () => {
    withHost((d) => `${ROOT_LINE}30 22 ${d} / /var rw,relatime - tmpfs tmpfs rw\n`, (dir, proc, root) => {
      const c = checkStatePlacement(dir, proc, root);
      expect(c.kind).toBe('wrong-filesystem');
      if (c.kind === 'wrong-filesystem') {
        expect(c.message).toContain(dir);
        expect(c.message).toContain('/var (tmpfs');
        expect(c.message).toContain('EPHEMERAL');
        expect(c.message).toContain('extension/autobootstrap.yaml');
      }
    });
  });

  test('ramfs, squashfs and overlay on /var are refused', () => {
    for (const t of ['ramfs', 'squashfs', 'overlay']) {
      withHost((d) => `${ROOT_LINE}30 22 ${d} / /var rw - ${t} ${t} rw\n`, (dir, proc, root) => {
        expect([t, checkStatePlacement(dir, proc, root).kind]).toEqual([t, 'wrong-filesystem']);
      });
    }
  });

  test('nothing mounted at /var: the root filesystem holds it, refused even when it is a disk on the same device', () => {
    withHost((d) => `22 1 ${d} / / rw - ext4 /dev/root rw\n`, (dir, proc, root) => {
      const c = checkStatePlacement(dir, proc, root);
      expect(c.kind).toBe('wrong-filesystem');
      if (c.kind === 'wrong-filesystem') expect(c.message).toContain("host's root filesystem");
    });
  });

  test('a persistent mount outside /var is refused', () => {
    withHost((d) => `${ROOT_LINE}41 22 ${d} / /srv rw - xfs /dev/vdb1 rw\n`, (_dir, proc, root) => {
      const dir = join(root, 'srv/state');
      mkdirSync(dir, { recursive: true });
      const c = checkStatePlacement(dir, proc, root);
      expect(c.kind).toBe('wrong-filesystem');
      if (c.kind === 'wrong-filesystem') expect(c.message).toContain("not under the host's /var");
    });
  });

  test('xfs on /var but another device than the directory here: refused', () => {
    withHost((d) => `${ROOT_LINE}41 22 ${Number(d.split(':')[0]) + 1}:${d.split(':')[1]} / /var rw - xfs /dev/vda6 rw\n`, (dir, proc, root) => {
      const c = checkStatePlacement(dir, proc, root);
      expect(c.kind).toBe('wrong-filesystem');
      if (c.kind === 'wrong-filesystem') expect(c.message).toContain('on device');
    });
  });

  test('an unreadable host mount table, or one without a type: unchecked, with the reason (the daemon refuses it)', () => {
    withHost(undefined, (dir, proc, root) => {
      const c = checkStatePlacement(dir, proc, root);
      expect(c.kind).toBe('unchecked');
      if (c.kind === 'unchecked') expect(c.message).toContain('cannot read');
    });
    withHost((d) => `41 22 ${d} / /var rw\n`, (dir, proc, root) => {
      expect(checkStatePlacement(dir, proc, root).kind).toBe('unchecked');
    });
  });

  test('the host path: below a fixture host root, the part under it; on a node, the path itself', () => {
    expect(hostPathOf('/var/lib/autobootstrap', '/')).toBe('/var/lib/autobootstrap');
    expect(hostPathOf('/tmp/n/cp1/var/lib/autobootstrap', '/tmp/n/cp1')).toBe('/var/lib/autobootstrap');
    expect(hostPathOf('/srv/state', '/tmp/n/cp1')).toBe('/srv/state');
  });

  test('the simulated node\'s mount table (test/sim) puts its state directory on xfs /var', () => {
    withHost(undefined, (dir, proc, root) => {
      writeFileSync(join(proc, '1', 'mountinfo'), renderMountInfo(splitDev(statSync(dir, { bigint: true }).dev)));
      expect(checkStatePlacement(dir, proc, root)).toMatchObject({ kind: 'ok', fsType: 'xfs' });
    });
  });
});
