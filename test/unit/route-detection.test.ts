// Scan-prefix and node-address detection over fixture /proc/net/route files and interface lists
// (test/fixtures/net: the kernel's format, and os.networkInterfaces()' shape). Never this machine's network.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { toInterfaceAddresses, type OsInterfaces } from '../../src/host/node-address.ts';
import { defaultRouteAddress, detectScanPrefix, isSkippedInterface, parseRouteTable } from '../../src/host/route-table.ts';

const FIXTURES = join(import.meta.dir, '../fixtures/net');

function fixture(name: string) {
  const routes = parseRouteTable(readFileSync(join(FIXTURES, `${name}.route`), 'utf8'));
  const interfaces = toInterfaceAddresses(JSON.parse(readFileSync(join(FIXTURES, `${name}.interfaces.json`), 'utf8')) as OsInterfaces);
  return { routes, interfaces };
}

describe('scan prefix from the default route', () => {
  test.each([
    // case, prefix, node address, interface, warning pattern (or null)
    ['multi-nic', '192.168.10.0/24', '192.168.10.7', 'eth1', null],
    ['vip', '10.5.0.0/24', '10.5.0.11', 'eth0', null],
    ['cloud-32', '10.128.0.5/32', '10.128.0.5', 'ens4', /\/32 .*covers only this node/],
    ['wide', '10.44.3.0/24', '10.44.3.9', 'eth0', /wider than \/16: scanning only 10\.44\.3\.9's \/24/],
    ['two-defaults', '172.16.0.0/20', '172.16.4.20', 'eth0', null],
    ['overlay-default', '10.1.2.0/24', '10.1.2.3', 'eth0', null],
  ] as const)('%s → %s', (name, prefix, address, iface, warning) => {
    const { routes, interfaces } = fixture(name);
    const r = detectScanPrefix(routes, interfaces);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect({ prefix: r.prefix.text, address: r.address, iface: r.iface }).toEqual({ prefix, address, iface });
    if (warning === null) expect(r.warnings).toEqual([]);
    else {
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toMatch(warning);
    }
    // The node address detection agrees with the scan prefix's interface and address.
    expect(defaultRouteAddress(routes, interfaces)).toEqual({ iface, address });
  });

  test('no default route: an error saying so, and no node address', () => {
    const { routes, interfaces } = fixture('no-default');
    const r = detectScanPrefix(routes, interfaces);
    expect(r).toEqual({ ok: false, error: expect.stringContaining('no default route') });
    expect(defaultRouteAddress(routes, interfaces)).toBeUndefined();
  });

  test('a default route on an interface with no usable IPv4 address falls through to the next one', () => {
    const { routes } = fixture('two-defaults');
    const interfaces = toInterfaceAddresses({
      eth0: [{ address: '169.254.1.1', family: 'IPv4', internal: false, cidr: '169.254.1.1/16' }],
      wlan0: [{ address: '192.168.1.33', family: 'IPv4', internal: false, cidr: '192.168.1.33/24' }],
    });
    const r = detectScanPrefix(routes, interfaces);
    expect(r.ok && r.prefix.text).toBe('192.168.1.0/24');
  });

  test('a VIP listed first still loses to the address whose prefix holds the gateway', () => {
    const { routes, interfaces } = fixture('vip');
    expect(interfaces.filter((i) => i.iface === 'eth0').map((i) => i.address)).toEqual(['10.5.0.50', '10.5.0.11']);
    expect(defaultRouteAddress(routes, interfaces)?.address).toBe('10.5.0.11');
  });
});

describe('interfaces never scanned', () => {
  test.each(['lo', 'kubespan', 'siderolink', 'cni0', 'flannel.1', 'cilium_host', 'cilium_vxlan', 'vxlan.calico', 'docker0', 'veth12ab', 'cali1a2b3c', 'tunl0', 'lxc9f8e', 'wg0', 'kube-ipvs0'])('%s is skipped', (name) => {
    expect(isSkippedInterface(name)).toBe(true);
  });
  test.each(['eth0', 'ens4', 'enp3s0', 'bond0', 'wlan0', 'br0'])('%s is a node network', (name) => {
    expect(isSkippedInterface(name)).toBe(false);
  });
});
