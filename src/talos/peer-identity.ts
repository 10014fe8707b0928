// A peer is who it claims only if its apid certificate chains to our OS CA (checked by TLS) and names
// the address we dialled among its IP SANs (checked here). Without the second check any node of this
// cluster could answer for any address.

/** IP addresses listed in a Node-style `subjectaltname` string ("DNS:a, IP Address:10.0.0.1"). */
export function ipSans(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  return subjectAltName
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('IP Address:'))
    .map((s) => s.slice('IP Address:'.length).trim());
}

export function certificateNamesAddress(subjectAltName: string | undefined, address: string): boolean {
  return ipSans(subjectAltName).includes(address);
}
