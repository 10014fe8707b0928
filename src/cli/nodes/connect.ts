// Channels the operator commands use: insecure TLS to nodes in maintenance mode (as talosctl --insecure:
// no client certificate, the per-boot server certificate not verified — there is nothing to verify it
// against yet), and mutual TLS with the talosconfig's credentials once a node has its config.
import * as grpc from '@grpc/grpc-js';
import { PeerIdentityError, type ClientIdentity } from '../../talos/channel.ts';
import { ipSans } from '../../talos/peer-identity.ts';
import { APID_PORT, dialOf, type HostPort } from '../inputs/node-address.ts';
import { machineStage } from '../../talos/machine-state.ts';
import { NodeClient, TalosCallError } from '../../talos/node-client.ts';
import { MACHINE_STATUS } from '../../talos/resources.ts';

export { APID_PORT };

export function insecureCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined, rejectUnauthorized: false });
}

/** `address` may carry its own port (`10.0.0.1:50001`, `cp1:50000`); otherwise `port`. */
export function insecureClient(address: string, deadlineMs: number, port = APID_PORT): NodeClient {
  const to = dialOf(address, port);
  return new NodeClient(to.host, to.port, insecureCredentials(), deadlineMs);
}

/** DNS names listed in a Node-style `subjectaltname` string. */
function dnsSans(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? '').split(',').map((s) => s.trim()).filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase());
}

/** The certificate names the host dialled: an IP among its IP SANs, a hostname among its DNS SANs. */
export function certificateNames(subjectAltName: string | undefined, to: HostPort): boolean {
  return to.ip ? ipSans(subjectAltName).includes(to.host) : dnsSans(subjectAltName).includes(to.host.toLowerCase());
}

/** Mutual TLS against the talosconfig's CA; the server must name one of `hosts` (the node, or the endpoints). */
function mutualTls(identity: ClientIdentity, hosts: HostPort[]): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem), {
    checkServerIdentity: (_host, cert) =>
      hosts.some((h) => certificateNames(cert.subjectaltname, h))
        ? undefined
        : new PeerIdentityError(`apid certificate does not name ${hosts.map((h) => h.host).join(' or ')} (SANs: ${cert.subjectaltname ?? 'none'})`),
  });
}

/**
 * A client for a configured node, talosctl's way (pkg/machinery/client, cmd/talosctl/pkg/talos/global/factory.go):
 * with endpoints, every call goes to them and carries the `node` metadata, which apid's director turns into a
 * one-to-one proxy call to that node (internal/app/apid/pkg/director/director.go singleDirector); several
 * endpoints are balanced round-robin as talosctl's resolver does. Without endpoints, the node is dialled directly.
 */
export function secureClient(address: string, identity: ClientIdentity, deadlineMs: number, port = APID_PORT, endpoints: string[] = []): NodeClient {
  const to = dialOf(address, port);
  if (endpoints.length === 0) return new NodeClient(to.host, to.port, mutualTls(identity, [to]), deadlineMs);
  const eps = endpoints.map((e) => dialOf(e, port));
  const allIp = eps.every((e) => e.ip);
  // grpc-js balances several IPv4 endpoints itself; a hostname endpoint is used alone (its DNS answer decides).
  const used = allIp ? eps : [eps[0] as HostPort];
  const target = allIp ? `ipv4:${used.map((e) => `${e.host}:${e.port}`).join(',')}` : `${used[0]?.host}:${used[0]?.port}`;
  return new NodeClient(used[0]?.host ?? to.host, used[0]?.port ?? to.port, mutualTls(identity, used), deadlineMs, {
    target,
    // apid's backend refuses a target with a port ("invalid target", apid.go NewAPID): the node goes as its host.
    metadata: { node: to.host },
    channelOptions: { 'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }) },
  });
}

/** grpc-js's transport errors carry timestamps and resolution notes; keep the part a person needs. */
export function shortTransportError(message: string): string {
  const m = /Last error: (?:Error: )?(.*?)(?: \(\d{4}-[^)]*\))?\.?(?: Resolution note:.*)?$/.exec(message);
  return (m?.[1] ?? message).trim();
}

/**
 * What MachineStatus says when asked without a client certificate, or why it could not be read.
 * `timedOut`: the call ran out of its deadline (DEADLINE_EXCEEDED): the node may only be slow.
 */
export type InsecureLook = { kind: 'stage'; stage: string | undefined } | { kind: 'failed'; detail: string; timedOut?: boolean };

/** MachineStatus over insecure TLS: maintenance mode serves it to everyone; a configured apid to no one. */
export async function insecureStage(address: string, deadlineMs: number, port = APID_PORT): Promise<InsecureLook> {
  // (insecureClient reads a port given with the address.)
  const client = insecureClient(address, deadlineMs, port);
  try {
    return { kind: 'stage', stage: machineStage(await client.getResource(MACHINE_STATUS)) };
  } catch (e) {
    if (!(e instanceof TalosCallError)) return { kind: 'failed', detail: String(e) };
    return { kind: 'failed', detail: shortTransportError(e.details), ...(e.code === grpc.status.DEADLINE_EXCEEDED ? { timedOut: true } : {}) };
  } finally {
    client.close();
  }
}
