// Channels the operator commands use: insecure TLS to nodes in maintenance mode (as talosctl --insecure:
// no client certificate, the per-boot server certificate not verified — there is nothing to verify it
// against yet), and mutual TLS with the talosconfig's credentials once a node has its config.
import * as grpc from '@grpc/grpc-js';
import { mutualTlsCredentials, type ClientIdentity } from '../../talos/channel.ts';
import { machineStage } from '../../talos/machine-state.ts';
import { NodeClient, TalosCallError } from '../../talos/node-client.ts';
import { MACHINE_STATUS } from '../../talos/resources.ts';

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

/** grpc-js's transport errors carry timestamps and resolution notes; keep the part a person needs. */
export function shortTransportError(message: string): string {
  const m = /Last error: (?:Error: )?(.*?)(?: \(\d{4}-[^)]*\))?\.?(?: Resolution note:.*)?$/.exec(message);
  return (m?.[1] ?? message).trim();
}

/** What MachineStatus says when asked without a client certificate, or why it could not be read. */
export type InsecureLook = { kind: 'stage'; stage: string | undefined } | { kind: 'failed'; detail: string };

/** MachineStatus over insecure TLS: maintenance mode serves it to everyone; a configured apid to no one. */
export async function insecureStage(address: string, deadlineMs: number, port = APID_PORT): Promise<InsecureLook> {
  const client = insecureClient(address, deadlineMs, port);
  try {
    return { kind: 'stage', stage: machineStage(await client.getResource(MACHINE_STATUS)) };
  } catch (e) {
    return { kind: 'failed', detail: e instanceof TalosCallError ? shortTransportError(e.details) : String(e) };
  } finally {
    client.close();
  }
}
