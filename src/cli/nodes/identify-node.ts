// What a node is, told from what it shows rather than from how a call to it failed: error texts differ
// between TLS stacks (a real apid aborts a client without a certificate with a TLS alert), so none is
// read here.
//
//   configured   its apid certificate chains to a CA we were given (the OS CA of the config being
//                applied, or the talosconfig's)
//   maintenance  MachineStatus, asked without a client certificate, says stage `maintenance`
//   unreachable  connection refused, no route, or no TLS handshake in time
//   unknown      anything else: something answers, but it proves neither — said so, never guessed;
//                `slow` when it completed the handshake but let the MachineStatus call run out of its deadline
import { chainsTo, serverCertificate, type ServerCertificateResult } from '../../discovery/tls-probe.ts';
import { APID_PORT, insecureStage, type InsecureLook } from './connect.ts';
import { dialOf } from '../inputs/node-address.ts';

export type NodeProbe =
  | { kind: 'maintenance' }
  /** `subjectAltName`: its apid certificate's SANs, Node's text form ("DNS:cp1, IP Address:10.0.0.1"). */
  | { kind: 'configured'; detail: string; ca?: TrustedCa; subjectAltName?: string }
  | { kind: 'unreachable'; detail: string }
  /**
   * otherCa: it presents a certificate that chains to none of the CAs given and refuses clients without a
   * certificate, as a configured apid does: most likely a node of another cluster (or a talosconfig of one).
   */
  | { kind: 'unknown'; detail: string; otherCa?: boolean; slow?: boolean };

/** A CA a configured node's apid certificate may chain to, and how to name it to a person. */
export interface TrustedCa {
  pem: string;
  what: string;
}

const oneLine = (dn: string) => dn.split('\n').join(', ');

/** Pure but for `look`, which is only asked when the certificate did not already answer. */
export async function classifyNode(tls: ServerCertificateResult, cas: TrustedCa[], look: () => Promise<InsecureLook>): Promise<NodeProbe> {
  if (tls.kind === 'closed') return { kind: 'unreachable', detail: tls.reason };
  if (tls.kind === 'certificate') {
    const ca = cas.find((c) => chainsTo(tls.chain, [c.pem]));
    const san = tls.chain[0]?.subjectAltName;
    if (ca) return { kind: 'configured', detail: `its apid certificate chains to ${ca.what}`, ca, ...(san !== undefined ? { subjectAltName: san } : {}) };
  }
  const seen = await look();
  if (seen.kind === 'stage' && seen.stage === 'maintenance') return { kind: 'maintenance' };
  const leaf = tls.kind === 'certificate' ? tls.chain[0] : undefined;
  const cert = leaf
    ? `its certificate (issuer ${oneLine(leaf.issuer)}) chains to ${cas.length > 0 ? `none of: ${cas.map((c) => c.what).join(', ')}` : 'no CA given'}`
    : `no server certificate (${tls.kind === 'failed' ? tls.reason : 'none'})`;
  // A call that ran out of its deadline was not refused: the node may be in maintenance on a slow network.
  const slow = seen.kind === 'failed' && seen.timedOut === true;
  const said =
    seen.kind === 'stage'
      ? `without a client certificate it says stage ${seen.stage ?? 'unknown'}`
      : slow
        ? `it did not answer MachineStatus within the call timeout (${seen.detail})`
        : `it does not answer without a client certificate (${seen.detail})`;
  const otherCa = leaf !== undefined && cas.length > 0 && seen.kind === 'failed' && !slow;
  return { kind: 'unknown', detail: `neither in maintenance nor known to be configured: ${cert}; ${said}`, ...(otherCa ? { otherCa } : {}), ...(slow ? { slow } : {}) };
}

export async function identifyNode(address: string, cas: TrustedCa[], deadlineMs: number, port = APID_PORT): Promise<NodeProbe> {
  const to = dialOf(address, port);
  return classifyNode(await serverCertificate(to.host, to.port, deadlineMs), cas, () => insecureStage(to.host, deadlineMs, to.port));
}
