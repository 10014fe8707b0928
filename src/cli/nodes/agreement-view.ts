// One control plane's agreement state, read with its read-only Status RPC (docs/agreement.md, "Status for
// autobootstrap status"): served by the daemon on the agreement port of its NODE_IP, over mutual TLS; any
// client certificate of the OS CA may read it (the talosconfig's will do). An error is "unknown", never a state.
import { AgreementClient } from '../../agreement/transport/client.ts';
import type { ClientIdentity } from '../../talos/channel.ts';
import { dialOf } from '../inputs/node-address.ts';
import type { AgreementView } from '../rules/agreement-summary.ts';
import { shortTransportError } from './connect.ts';

export async function agreementOf(address: string, identity: ClientIdentity, port: number, deadlineMs: number): Promise<AgreementView> {
  const client = new AgreementClient(dialOf(address).host, port, identity);
  try {
    const s = await client.status(deadlineMs);
    return {
      node: s.node,
      phase: s.phase,
      ...(s.chosen !== undefined ? { chosen: s.chosen } : {}),
      ...(s.quorumError !== undefined ? { quorumError: s.quorumError } : {}),
      bootstrapIssued: s.bootstrapIssued,
    };
  } catch (e) {
    const details = (e as { details?: string }).details ?? (e instanceof Error ? e.message : String(e));
    return { error: shortTransportError(details) };
  } finally {
    client.close();
  }
}
