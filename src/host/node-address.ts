// This node's IPv4 address when TALOS_AUTO_BOOTSTRAP_NODE_IP is not set: the address of the interface
// carrying the default route in the node's routing table. The service runs in the host network
// namespace, so the interface list is the node's.
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import type { HostPaths } from './paths.ts';
import { defaultRouteAddress, parseRouteTable, type InterfaceAddress } from './route-table.ts';

export function localInterfaces(): InterfaceAddress[] {
  const out: InterfaceAddress[] = [];
  for (const [iface, addrs] of Object.entries(networkInterfaces())) {
    for (const a of addrs ?? []) out.push({ iface, address: a.address, family: a.family === 'IPv4' ? 'IPv4' : 'IPv6', internal: a.internal });
  }
  return out;
}

export function detectNodeAddress(paths: HostPaths, interfaces: InterfaceAddress[] = localInterfaces()): { address: string; why: string } | { error: string } {
  let table: string | undefined;
  let source = '';
  for (const dir of [paths.hostProc, paths.proc]) {
    try {
      table = readFileSync(`${dir}/net/route`, 'utf8');
      source = `${dir}/net/route`;
      break;
    } catch {
      // try the next
    }
  }
  if (table === undefined) return { error: `no route table under ${paths.hostProc} or ${paths.proc}` };
  const found = defaultRouteAddress(parseRouteTable(table), interfaces);
  if (!found) return { error: `${source} has no default route on an interface with an IPv4 address` };
  return { address: found.address, why: `default route via ${found.iface} in ${source}` };
}
