// One discovery round. The named targets (self, static peers, members) and the scan run concurrently, each
// in its own bounded pool, so a long scan never delays the few addresses known by name; an address both
// named and inside a scanned prefix is inspected once. Results are merged by address, then by Talos's node identity.
import { isControlPlaneType, type Candidate, type Rejected } from '../model/candidate.ts';
import { forEachBounded } from '../util/bounded.ts';
import { parseIPv4 } from '../util/ipv4.ts';
import type { Inspection } from './inspect-peer.ts';
import { mergeByIdentity } from './merge-identities.ts';
import { scan, type ScanSteps } from './scan.ts';
import { namedTargets, type DiscoveryPlan, type TargetSource } from './targets.ts';

export interface SourceCount {
  /** Addresses the source named (scan: addresses probed). */
  probed: number;
  /** Addresses that answered on the apid port. */
  answered: number;
  /** Verified control planes among them. */
  controlPlanes: number;
}

export interface DiscoveryResult {
  controlPlanes: Candidate[];
  others: Candidate[];
  rejected: Rejected[];
  /** Addresses whose certificate does not chain to our CA; logged once each by the caller. */
  untrusted: Rejected[];
  counts: Record<TargetSource, SourceCount>;
}

export function emptyCounts(): Record<TargetSource, SourceCount> {
  const zero = (): SourceCount => ({ probed: 0, answered: 0, controlPlanes: 0 });
  return { self: zero(), static: zero(), members: zero(), scan: zero() };
}

/** A round in progress: the final result, and the candidates found so far (for deciding early to arm). */
export interface DiscoveryRun {
  done: Promise<DiscoveryResult>;
  /** Settles when every named target (self, static, members) has been inspected. */
  namedDone: Promise<void>;
  /** Candidates so far, merged by identity; counts are not final. */
  partial(): DiscoveryResult;
}

export async function discover(plan: DiscoveryPlan, concurrency: number, steps: ScanSteps): Promise<DiscoveryResult> {
  return startDiscovery(plan, concurrency, steps).done;
}

/** Starts a round; `onCandidate` is called each time a verified node is found. */
export function startDiscovery(plan: DiscoveryPlan, concurrency: number, steps: ScanSteps, onCandidate?: () => void): DiscoveryRun {
  const result: DiscoveryResult = { controlPlanes: [], others: [], rejected: [], untrusted: [], counts: emptyCounts() };
  const named = namedTargets(plan);
  const tally = (sources: TargetSource[], inspection: Inspection) => {
    for (const source of sources) {
      const count = result.counts[source];
      if (source !== 'scan') count.probed++;
      if (inspection.kind === 'silent') continue;
      count.answered++;
      if (inspection.kind === 'candidate' && isControlPlaneType(inspection.candidate.machineType)) count.controlPlanes++;
    }
  };
  const record = (address: string, inspection: Inspection, reportSilence: boolean) => {
    if (inspection.kind === 'silent') {
      // A scanned address with nothing listening is noise; a named peer or self not answering is news.
      if (reportSilence) result.rejected.push({ address, reason: `unreachable: ${inspection.reason}` });
      return;
    }
    if (inspection.kind === 'rejected') {
      (inspection.untrusted ? result.untrusted : result.rejected).push({ address, reason: inspection.reason });
      return;
    }
    if (isControlPlaneType(inspection.candidate.machineType)) result.controlPlanes.push(inspection.candidate);
    else result.others.push(inspection.candidate);
    onCandidate?.();
  };

  const namedResults = new Map<string, Inspection>();
  const namedRound = forEachBounded(named.entries(), concurrency, async ([address, sources]) => {
    const inspection = await steps.inspect(address);
    namedResults.set(address, inspection);
    tally(sources, inspection);
    record(address, inspection, true);
  });
  const scanRound = scan(plan.scan, new Set(named.keys()), concurrency, steps, (address, inspection) => {
    tally(['scan'], inspection);
    record(address, inspection, false);
  });
  const done = (async () => {
    const [, scanned] = await Promise.all([namedRound, scanRound]);
    return finish(scanned.probed);
  })();
  const partial = (): DiscoveryResult => ({
    controlPlanes: mergeByIdentity([...result.controlPlanes], plan.self, [...result.controlPlanes, ...result.others]),
    others: [...result.others],
    rejected: [...result.rejected],
    untrusted: [...result.untrusted],
    counts: structuredClone(result.counts),
  });
  return { done, namedDone: namedRound, partial };

  function finish(scannedProbed: number): DiscoveryResult {
    result.counts.scan.probed += scannedProbed;
    // A named address inside a scanned prefix was found by the scan too; count it there without probing twice.
    for (const [address, inspection] of namedResults) {
      if (plan.scan.some((p) => inPrefix(address, p))) {
        result.counts.scan.probed++;
        tally(['scan'], inspection);
      }
    }
    result.controlPlanes = mergeByIdentity(result.controlPlanes, plan.self, [...result.controlPlanes, ...result.others]);
    return result;
  }
}

function inPrefix(address: string, prefix: { network: number; bits: number }): boolean {
  const value = parseIPv4(address);
  const mask = prefix.bits === 0 ? 0 : (0xffffffff << (32 - prefix.bits)) >>> 0;
  return value !== undefined && (value & mask) >>> 0 === prefix.network;
}
