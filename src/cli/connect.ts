// Channels the operator commands use: insecure TLS to nodes in maintenance mode (as talosctl --insecure:
// no client certificate, the per-boot server certificate not verified — there is nothing to verify it
// against yet), and mutual TLS with the talosconfig's credentials once a node has its config.
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { mutualTlsCredentials, type ClientIdentity } from '../talos/channel.ts';
import { NodeClient, TalosCallError } from '../talos/node-client.ts';
import { MACHINE_STATUS } from '../talos/resources.ts';

export const APID_PORT = 50000;

export function insecureCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined, rejectUnauthorized: false });
}

export function insecureClient(address: string, deadlineMs: number, port = APID_PORT): NodeClient {
  return new NodeClient(address, port, insecureCredentials(), deadlineMs);
}

export function secureClient(address: string, identity: ClientIdentity, deadlineMs: number, port = APID_PORT): NodeClient {
  return new NodeClient(address, port, mutualTlsCredentials(address, identity), deadlineMs);
}

export type InsecureProbe =
  /** apid answered without a client certificate and says it is in maintenance. */
  | { kind: 'maintenance' }
  /** apid answered but is not in maintenance (stage given), or refused a client without a certificate. */
  | { kind: 'configured'; detail: string }
  /** Nothing answered: down, rebooting, or not reachable from here. */
  | { kind: 'unreachable'; detail: string };

// A TCP connection that is refused or never made: nothing listens (yet). Anything else at the TLS layer
// means something listened and would not talk to a client without a certificate: a configured apid.
// grpc-js says "No connection established. Last error: Error: connect ECONNREFUSED ..." for the first and
// "... Last error: Failed to connect" when the TLS handshake was refused.
const NOT_LISTENING = ['ECONNREFUSED', 'connection refused', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'deadline exceeded'];

export function probeOutcome(code: number, message: string): InsecureProbe {
  if (code === status.PERMISSION_DENIED || code === status.UNAUTHENTICATED) return { kind: 'configured', detail: `apid refused an insecure client (${message})` };
  if (code === status.DEADLINE_EXCEEDED || NOT_LISTENING.some((m) => message.includes(m))) {
    return { kind: 'unreachable', detail: shortTransportError(message) };
  }
  // A TCP connection was made and the TLS handshake refused: only a configured apid does that.
  if (code === status.UNAVAILABLE && message.includes('Failed to connect')) {
    return { kind: 'configured', detail: 'apid now requires a client certificate' };
  }
  return { kind: 'unreachable', detail: shortTransportError(message) };
}

/** grpc-js's transport errors carry timestamps and resolution notes; keep the part a person needs. */
export function shortTransportError(message: string): string {
  const m = /Last error: (?:Error: )?(.*?)(?: \(\d{4}-[^)]*\))?\.?(?: Resolution note:.*)?$/.exec(message);
  return (m?.[1] ?? message).trim();
}

/** One look at a node without credentials: MachineStatus, which maintenance mode serves to everyone. */
export async function probeInsecure(address: string, deadlineMs: number, port = APID_PORT): Promise<InsecureProbe> {
  const client = insecureClient(address, deadlineMs, port);
  try {
    const r = await client.getResource(MACHINE_STATUS);
    const stage = (r?.spec as { stage?: string } | null)?.stage ?? 'unknown';
    return stage === 'maintenance' ? { kind: 'maintenance' } : { kind: 'configured', detail: `stage ${stage}` };
  } catch (e) {
    if (e instanceof TalosCallError) return probeOutcome(e.code, e.details);
    return { kind: 'unreachable', detail: e instanceof Error ? e.message : String(e) };
  } finally {
    client.close();
  }
}
