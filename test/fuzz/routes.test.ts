// Route tables (/proc/net/route text) and interface lists (getifaddrs) as the daemon reads them to find its
// own address and the prefix to scan (src/host/route-table.ts, src/host/node-address.ts). Never an
// exception; a detected prefix is never wider than /16, belongs to a non-skipped interface that carries the
// default route, and holds the address it names.
import { afterAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { toInterfaceAddresses, type OsInterfaces } from '../../src/host/node-address.ts';
import { detectScanPrefix, isSkippedInterface, parseRouteTable, WIDEST_DETECTED_BITS, type InterfaceAddress } from '../../src/host/route-table.ts';
import { isIPv4, parseIPv4 } from '../../src/util/ipv4.ts';
import { check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'routes.test.ts';
const HEADER = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT';
const ifaces = fc.constantFrom('eth0', 'ens3', 'lo', 'kubespan', 'cilium_host', 'flannel.1', 'wg0', 'bond0', 'br0', 'eth0.100', 'siderolink', '', 'x'.repeat(40));
const hex8 = fc.oneof(fc.integer({ min: 0, max: 0xffffffff }).map((n) => n.toString(16).toUpperCase().padStart(8, '0')), fc.string({ maxLength: 10 }));
const routeLine = fc
  .tuple(ifaces, hex8, hex8, fc.oneof(fc.integer({ min: 0, max: 0xffff }).map((n) => n.toString(16).padStart(4, '0')), fc.string({ maxLength: 4 })), fc.integer({ min: -1, max: 2000 }), hex8)
  .map(([i, d, g, f, m, mask]) => [i, d, g, f, '0', '0', String(m), mask, '0', '0', '0'].join('\t'));
const table = fc.oneof(
  fc.array(routeLine, { maxLength: 12 }).map((l) => [HEADER, ...l].join('\n') + '\n'),
  fc.string({ maxLength: 400 }),
  fc.array(fc.oneof(routeLine, fc.string({ maxLength: 60 })), { maxLength: 10 }).map((l) => l.join('\n')),
);
const octet = fc.integer({ min: 0, max: 255 });
const address = fc.oneof(fc.tuple(octet, octet, octet, octet).map((o) => o.join('.')), fc.constantFrom('::1', 'fe80::1', '', '300.1.1.1', '169.254.3.4'));
const ifaceAddress: fc.Arbitrary<InterfaceAddress> = fc.record(
  { iface: ifaces, address, family: fc.constantFrom('IPv4' as const, 'IPv6' as const), internal: fc.boolean(), bits: fc.integer({ min: -2, max: 40 }) },
  { requiredKeys: ['iface', 'address', 'family', 'internal'] },
);

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('route tables and interface lists', () => {
  test('any route table and interface list: never an exception; a detected prefix is bounded and belongs to a real interface', () => {
    check(
      FILE,
      'any route table and interface list',
      fc.property(table, fc.array(ifaceAddress, { maxLength: 8 }), (text, addrs) => {
        const routes = outcome(() => parseRouteTable(text), []);
        if (!routes.ok) return;
        const d = outcome(() => detectScanPrefix(routes.value, addrs), []);
        if (!d.ok || !d.value.ok) return;
        const { prefix, iface, address: a } = d.value;
        expect(prefix.bits >= WIDEST_DETECTED_BITS && prefix.bits <= 32).toBe(true);
        expect(isSkippedInterface(iface)).toBe(false);
        expect(isIPv4(a)).toBe(true);
        expect(addrs.some((x) => x.iface === iface && x.address === a)).toBe(true);
        expect(routes.value.some((r) => r.iface === iface)).toBe(true);
        const mask = prefix.bits === 0 ? 0 : (0xffffffff << (32 - prefix.bits)) >>> 0;
        expect(((parseIPv4(a)! & mask) >>> 0) === prefix.network).toBe(true);
      }),
    );
  });

  test('the OS interface list (node:os networkInterfaces shape) with odd values, then detection', () => {
    const entry = fc.record({
      address: address,
      family: fc.oneof(fc.constantFrom('IPv4', 'IPv6'), fc.constantFrom(4, 6)),
      internal: fc.boolean(),
      cidr: fc.oneof(fc.constant(null), fc.tuple(address, fc.integer({ min: -1, max: 129 })).map(([a, b]) => `${a}/${b}`), fc.string({ maxLength: 12 })),
    });
    const os: fc.Arbitrary<OsInterfaces> = fc.dictionary(fc.string({ maxLength: 10 }), fc.option(fc.array(entry, { maxLength: 4 }), { nil: undefined }), { maxKeys: 5 });
    // Every interface carries a default route: whatever the list holds, detection stays bounded.
    check(
      FILE,
      'the OS interface list',
      fc.property(os, (o) => {
        const r = outcome(() => toInterfaceAddresses(o), []);
        if (!r.ok) return;
        const routes = Object.keys(o).map((iface) => ({ iface, destination: 0, gateway: 0x0a000001, mask: 0, metric: 0, flags: 0x3 }));
        const d = outcome(() => detectScanPrefix(routes, r.value), []);
        if (d.ok && d.value.ok) {
          expect(d.value.prefix.bits >= WIDEST_DETECTED_BITS && d.value.prefix.bits <= 32).toBe(true);
          expect(isIPv4(d.value.address)).toBe(true);
        }
      }),
    );
  });
});
