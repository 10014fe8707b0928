// One discovery round: inspect every target with bounded concurrency, merge by address.
import type { Candidate, Rejected } from '../bootstrap/core/observation.ts';
import { isControlPlaneType } from '../bootstrap/core/observation.ts';
import { forEachBounded } from '../util/bounded.ts';
import { inspectPeer, type InspectOptions } from './inspect-peer.ts';
import { mergeByIdentity } from './merge-identities.ts';
import { targetsOf, type DiscoveryPlan, type TargetSource } from './targets.ts';

export interface DiscoveryResult {
  controlPlanes: Candidate[];
  others: Candidate[];
  rejected: Rejected[];
  /** Addresses whose certificate does not chain to our CA; logged once each by the caller. */
  untrusted: Rejected[];
  counts: Record<TargetSource, { probed: number; answered: number; controlPlanes: number }>;
}

export async function discover(plan: DiscoveryPlan, opts: InspectOptions & { concurrency: number }): Promise<DiscoveryResult> {
  const result: DiscoveryResult = {
    controlPlanes: [],
    others: [],
    rejected: [],
    untrusted: [],
    counts: { self: zero(), static: zero(), scan: zero() },
  };
  await forEachBounded(targetsOf(plan), opts.concurrency, async ({ address, source }) => {
    const count = result.counts[source];
    count.probed++;
    const found = await inspectPeer(address, opts);
    if (found.kind === 'silent') {
      // A scanned address with nothing listening is noise; a named peer or self not answering is news.
      if (source !== 'scan') result.rejected.push({ address, reason: `unreachable: ${found.reason}` });
      return;
    }
    count.answered++;
    if (found.kind === 'rejected') {
      (found.untrusted ? result.untrusted : result.rejected).push({ address, reason: found.reason });
      return;
    }
    if (isControlPlaneType(found.candidate.machineType)) {
      count.controlPlanes++;
      result.controlPlanes.push(found.candidate);
    } else result.others.push(found.candidate);
  });
  result.controlPlanes = mergeByIdentity(result.controlPlanes, plan.self);
  return result;
}

function zero() {
  return { probed: 0, answered: 0, controlPlanes: 0 };
}
