// Node and endpoint addresses as talosctl accepts them: an IPv4 address or a hostname, optionally with
// `:port` (talosctl appends :50000 to an endpoint without one: resolver.EnsureEndpointsHavePorts in
// pkg/machinery/client/resolver/roundrobin.go). IPv6 is not supported here. Pure.
import { isIPv4 } from '../../util/ipv4.ts';

export const APID_PORT = 50000;

export interface HostPort {
  host: string;
  port: number;
  /** The host is an IPv4 literal (identity is then checked against IP SANs, else DNS SANs). */
  ip: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

/** `10.0.0.1`, `10.0.0.1:50001`, `cp1`, `cp1.example.com:50000`; undefined for anything else. */
export function parseHostPort(text: string, defaultPort = APID_PORT): HostPort | undefined {
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return undefined;
  const host = m[1] as string;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  if (isIPv4(host)) return { host, port, ip: true };
  // A dotted all-digit name is a mistyped address, not a hostname.
  if (/^[\d.]+$/.test(host) || !HOSTNAME.test(host)) return undefined;
  return { host: host.replace(/\.$/, ''), port, ip: false };
}

/** The host and port to dial for an address that was validated at input (a bad one falls back to as-is). */
export function dialOf(address: string, defaultPort = APID_PORT): HostPort {
  return parseHostPort(address, defaultPort) ?? { host: address, port: defaultPort, ip: isIPv4(address) };
}

export function addressProblem(text: string): string | undefined {
  return parseHostPort(text) ? undefined : `"${text}" is not a node address; use an IPv4 address or a hostname, optionally with :port (IPv6 is not supported)`;
}
