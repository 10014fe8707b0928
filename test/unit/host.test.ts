import { describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseBootTime } from '../../src/host/boot-time.ts';
import { detectRole } from '../../src/host/control-plane.ts';
import { concurrencyWithin, openFilesLimit } from '../../src/host/fd-limit.ts';
import { detectNodeAddress } from '../../src/host/node-address.ts';
import { hostPaths } from '../../src/host/paths.ts';
import { defaultRouteAddress, parseRouteTable, type InterfaceAddress } from '../../src/host/route-table.ts';

// Real /proc/net/route layout: hex, host byte order (little-endian here).
const ROUTES = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0
eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0
eth0\t0000000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0
`;
const IFACES: InterfaceAddress[] = [
  { iface: 'lo', address: '127.0.0.1', family: 'IPv4', internal: true },
  { iface: 'eth0', address: 'fe80::1', family: 'IPv6', internal: false },
  { iface: 'eth0', address: '10.0.0.5', family: 'IPv4', internal: false },
  { iface: 'eth1', address: '192.168.1.7', family: 'IPv4', internal: false },
];

describe('route table', () => {
  test('parses the kernel format with little-endian hex', () => {
    const r = parseRouteTable(ROUTES);
    expect(r).toHaveLength(3);
    expect(r[2]).toMatchObject({ iface: 'eth0', destination: 0x0a000000, mask: 0xffffff00, metric: 100 });
  });
  test('the default route with the lowest metric names the address', () => {
    expect(defaultRouteAddress(parseRouteTable(ROUTES), IFACES)).toEqual({ iface: 'eth0', address: '10.0.0.5' });
  });
  test('no default route, no address', () => {
    expect(defaultRouteAddress(parseRouteTable(ROUTES.split('\n').filter((l) => !l.includes('\t00000000\t0')).join('\n')), IFACES)).toBeUndefined();
  });
  test('a host root fixture is read from host/proc first', () => {
    const root = mkdtempSync(join(tmpdir(), 'ab-host-'));
    mkdirSync(join(root, 'host/proc/net'), { recursive: true });
    writeFileSync(join(root, 'host/proc/net/route'), ROUTES);
    expect(detectNodeAddress(hostPaths(root), IFACES)).toMatchObject({ address: '10.0.0.5' });
    expect(detectNodeAddress(hostPaths(join(root, 'missing')), IFACES)).toHaveProperty('error');
  });
});

describe('host facts', () => {
  test('btime from /proc/stat', () => {
    expect(parseBootTime('cpu  1 2 3\nintr 5\nbtime 1763700000\nprocesses 9\n')).toBe(1763700000n);
    expect(parseBootTime('cpu 1\n')).toBeUndefined();
  });
  test('control plane by etcd secrets; pending when only the config says so; worker otherwise', () => {
    const root = mkdtempSync(join(tmpdir(), 'ab-role-'));
    const paths = hostPaths(root);
    expect(detectRole(paths, 'worker').role).toBe('worker');
    expect(detectRole(paths, undefined).role).toBe('worker');
    expect(detectRole(paths, 'controlplane').role).toBe('pending');
    expect(detectRole(paths, 'init').role).toBe('pending');
    // The bare directory is what the extension's bind mount leaves on every node, workers included.
    mkdirSync(paths.etcdSecrets, { recursive: true });
    expect(detectRole(paths, undefined).role).toBe('worker');
    expect(detectRole(paths, 'controlplane').role).toBe('pending');
    writeFileSync(join(paths.etcdSecrets, 'ca.crt'), '-----BEGIN CERTIFICATE-----\n');
    expect(detectRole(paths, undefined).role).toBe('controlplane');
  });
});

describe('open-file limit bounds the scan concurrency', () => {
  const limits = (soft: string, hard: string) =>
    `Limit                     Soft Limit           Hard Limit           Units     \nMax processes             63704                63704                processes \nMax open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     \n`;
  test('parsed from /proc/self/limits', () => {
    expect(openFilesLimit(limits('1024', '1048576'))).toBe(1024);
    expect(openFilesLimit(limits('unlimited', 'unlimited'))).toBeUndefined();
    expect(openFilesLimit('nothing here')).toBeUndefined();
  });
  test('4096 fits a generous limit, is cut to what a 1024 limit allows, never below 1', () => {
    expect(concurrencyWithin(4096, 1_048_576)).toBe(4096);
    expect(concurrencyWithin(4096, 1024)).toBe(384);
    expect(concurrencyWithin(4096, 100)).toBe(1);
    expect(concurrencyWithin(256, undefined)).toBe(256);
  });
});
