// apply's I/O against real nodes: ApplyConfiguration over insecure TLS, and looks at what a node is.
import { formatDuration } from '../../util/duration.ts';
import { NodeClient, TalosCallError } from '../../talos/node-client.ts';
import { dialOf } from '../inputs/node-address.ts';
import { FingerprintMismatch, fingerprintCredentials, servedFingerprint } from './fingerprint.ts';
import type { ApplyDeps, LeaveCheck } from '../rules/apply-node.ts';
import { APID_PORT, insecureClient, shortTransportError } from './connect.ts';
import { identifyNode, type TrustedCa } from './identify-node.ts';
import { sleep } from '../../util/sleep.ts';
import type { NodeTarget } from '../inputs/target.ts';

export interface ApplyIoOptions {
  callDeadlineMs: number;
  probeDeadlineMs: number;
  pollMs: number;
  waitTimeoutMs: number;
  /** The CA a node applied with its config will serve under: machine.ca.crt of that config. */
  casFor(target: NodeTarget): TrustedCa[];
  progress(target: NodeTarget, text: string): void;
  port?: number;
}

/** Polls the node until it positively identifies as configured with its config's CA: it rebooted into it. */
async function waitLeftMaintenance(target: NodeTarget, o: ApplyIoOptions): Promise<LeaveCheck> {
  const until = Date.now() + o.waitTimeoutMs;
  for (;;) {
    const seen = await identifyNode(target.address, o.casFor(target), o.probeDeadlineMs, o.port ?? APID_PORT);
    if (seen.kind === 'configured') return { ok: true, detail: `left maintenance (${seen.detail})` };
    const last = seen.kind === 'maintenance' ? 'still in maintenance' : seen.kind === 'unreachable' ? `rebooting? (${seen.detail})` : `cannot tell: ${seen.detail}`;
    if (Date.now() >= until) return { ok: false, detail: `after ${formatDuration(o.waitTimeoutMs)}: ${last}` };
    await sleep(o.pollMs);
  }
}

export function applyIo(o: ApplyIoOptions): ApplyDeps {
  const port = o.port ?? APID_PORT;
  return {
    async apply(target, data) {
      if (target.certFingerprints) {
        // Said plainly before any call; the channel below enforces it again on the connection that carries the config.
        const served = await servedFingerprint(target.address, port, o.probeDeadlineMs);
        if ('fingerprint' in served && !target.certFingerprints.includes(served.fingerprint)) {
          throw new FingerprintMismatch(`its server certificate fingerprint ${served.fingerprint} matches none of --cert-fingerprint ${target.certFingerprints.join(', ')}`);
        }
      }
      // With --cert-fingerprint, the channel itself refuses a server whose certificate does not match:
      // the config (which carries the cluster's CA key) never leaves on an unverified connection.
      const client = target.certFingerprints
        ? new NodeClient(dialOf(target.address, port).host, dialOf(target.address, port).port, fingerprintCredentials(target.certFingerprints), o.callDeadlineMs)
        : insecureClient(target.address, o.callDeadlineMs, port);
      try {
        return await client.applyConfiguration(data, 'AUTO');
      } catch (e) {
        if (e instanceof TalosCallError) throw new TalosCallError(e.method, e.code, shortTransportError(e.details));
        throw e;
      } finally {
        client.close();
      }
    },
    identify: (target) => identifyNode(target.address, o.casFor(target), o.probeDeadlineMs, port),
    sleep: (ms) => sleep(ms),
    waitLeftMaintenance: (target) => waitLeftMaintenance(target, o),
    progress: o.progress,
  };
}
