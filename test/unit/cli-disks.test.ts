// Install-disk selection against the disks a node reports, with Talos's semantics (v1alpha1
// InstallConfig.DiskMatchExpression, go-humanize sizes, go-glob patterns).
import { describe, expect, test } from 'bun:test';
import { checkInstallDisk, globMatch, parseSizeCondition, selectorMismatches, type DiskInfo } from '../../src/cli/rules/disk-selector.ts';

const SDA: DiskInfo = {
  id: 'sda',
  dev_path: '/dev/sda',
  size: 21474836480,
  pretty_size: '21 GB',
  model: 'QEMU HARDDISK',
  serial: 'QM00001',
  bus_path: '/pci0000:00/0000:00:05.0/virtio2/host0/target0:0:0/0:0:0:0',
  transport: 'virtio',
  rotational: true,
  symlinks: ['/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:0:0'],
};
const NVME: DiskInfo = {
  id: 'nvme0n1',
  dev_path: '/dev/nvme0n1',
  size: 2_000_398_934_016,
  pretty_size: '2.0 TB',
  model: 'Samsung SSD 980 PRO 2TB',
  serial: 'S6B0NL0W123456',
  wwid: 'eui.002538b311a0c1d2',
  transport: 'nvme',
  rotational: false,
};
const CDROM: DiskInfo = { id: 'sr0', dev_path: '/dev/sr0', size: 1_000_000, transport: 'ata', cdrom: true, readonly: true };
const DM: DiskInfo = { id: 'dm-0', dev_path: '/dev/dm-0', size: 5e12 };

describe('parseSizeCondition', () => {
  const table: [string | number, { op: string; bytes: number } | undefined][] = [
    ['4GB', { op: '==', bytes: 4e9 }],
    ['>= 1TB', { op: '>=', bytes: 1e12 }],
    ['> 1TB', { op: '>', bytes: 1e12 }],
    ['<= 2TB', { op: '<=', bytes: 2e12 }],
    ['<2TiB', { op: '<', bytes: 2 * 2 ** 40 }],
    ['== 500 GiB', { op: '==', bytes: 500 * 2 ** 30 }],
    ['1.5 tb', { op: '==', bytes: 1.5e12 }],
    ['1,000 MB', { op: '==', bytes: 1e9 }],
    [4000, { op: '==', bytes: 4000 }],
    ['4000', { op: '==', bytes: 4000 }],
    ['=> 1TB', undefined],
    ['big', undefined],
    ['1 XB', undefined],
  ];
  for (const [input, want] of table) test(JSON.stringify(input), () => expect(parseSizeCondition(input)).toEqual(want as never));
});

describe('globMatch (only * is special, and it crosses slashes)', () => {
  const table: [string, string, boolean][] = [
    ['WDC*', 'WDC WD10EZEX', true],
    ['WDC*', 'QEMU HARDDISK', false],
    ['*SSD*', 'Samsung SSD 980', true],
    ['/pci0000:00/*', '/pci0000:00/0000:00:05.0/virtio2/host0', true],
    ['QM00001', 'QM00001', true],
    ['QM0000?', 'QM00001', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['ab*ba', 'aba', false],
  ];
  for (const [pattern, value, want] of table) test(`${pattern} vs ${value}`, () => expect(globMatch(pattern, value)).toBe(want));
});

describe('selectorMismatches: the terms of Talos\'s expression', () => {
  test('type ssd/hdd/nvme/sd map to rotational and transport', () => {
    expect(selectorMismatches({ type: 'ssd' }, NVME)).toEqual([]);
    expect(selectorMismatches({ type: 'hdd' }, NVME)).toEqual(['type hdd, but the disk is not rotational']);
    expect(selectorMismatches({ type: 'nvme' }, SDA)).toEqual(['type nvme, but transport is virtio']);
    expect(selectorMismatches({ type: 'sd' }, { ...SDA, transport: 'mmc' })).toEqual([]);
  });
  test('disks without transport, read-only disks and CD-ROMs never match', () => {
    expect(selectorMismatches({ size: '>= 1TB' }, DM)).toEqual(['no transport (not a physical disk)']);
    expect(selectorMismatches({}, CDROM)).toEqual(['read-only', 'a CD-ROM']);
  });
  test('every glob field is checked', () => {
    expect(selectorMismatches({ model: 'Samsung*', serial: 'S6B0*', wwid: 'eui.*', busPath: '*' }, NVME)).toEqual([]);
    expect(selectorMismatches({ serial: 'XYZ*' }, NVME)).toEqual(['serial "S6B0NL0W123456" does not match "XYZ*"']);
  });
});

describe('checkInstallDisk', () => {
  test('a selector that matches picks the disk', () => {
    const r = checkInstallDisk({ diskSelector: { size: '>= 1TB', type: 'nvme' } }, [SDA, NVME]);
    expect(r).toMatchObject({ ok: true, disk: { id: 'nvme0n1' } });
  });
  test('a selector matching nothing shows the selector, every disk, and why each one fails', () => {
    const r = checkInstallDisk({ diskSelector: { size: '>= 1TB', model: 'WDC*' } }, [SDA, CDROM]);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('diskSelector {"size":">= 1TB","model":"WDC*"} matches no disk');
    expect(r.detail).toContain('the node has: /dev/sda, 21 GB, model "QEMU HARDDISK", serial "QM00001", transport virtio, rotational');
    expect(r.detail).toContain('/dev/sda: size 21 GB is not ">= 1TB"');
    expect(r.detail).toContain('model "QEMU HARDDISK" does not match "WDC*"');
    expect(r.detail).toContain('/dev/sr0: size');
  });
  test('install.disk by device path or by-path link; missing disk names both sides', () => {
    expect(checkInstallDisk({ disk: '/dev/sda' }, [SDA]).ok).toBe(true);
    expect(checkInstallDisk({ disk: '/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:0:0' }, [SDA]).ok).toBe(true);
    const r = checkInstallDisk({ disk: '/dev/nvme0n1' }, [SDA]);
    expect(r).toEqual({ ok: false, detail: 'install.disk /dev/nvme0n1 is not on this node; the node has: /dev/sda, 21 GB, model "QEMU HARDDISK", serial "QM00001", transport virtio, rotational' });
  });
  test('bad selectors are reported as Talos would refuse them', () => {
    expect(checkInstallDisk({ diskSelector: { size: 'huge' } }, [SDA]).detail).toMatch(/diskSelector.size "huge" is not a size condition/);
    expect(checkInstallDisk({ diskSelector: { type: 'tape' } }, [SDA]).detail).toMatch(/not one of ssd, hdd, nvme, sd/);
    expect(checkInstallDisk({ diskSelector: { name: 'sda' } }, [SDA]).detail).toMatch(/diskSelector.name is not supported by Talos/);
    expect(checkInstallDisk({ diskSelector: { modell: 'x' } as never }, [SDA]).detail).toMatch(/unknown diskSelector key "modell"/);
  });
  test('neither disk nor selector', () => {
    expect(checkInstallDisk({}, [SDA]).detail).toMatch(/neither machine.install.disk nor machine.install.diskSelector/);
  });
});
