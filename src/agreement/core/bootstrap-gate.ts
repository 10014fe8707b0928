// "May this node call Bootstrap now?" once the agreement has run: only the chosen node, only with positive
// evidence that no cluster exists, and a repeat call (Talos keeps an accepted Bootstrap in memory only, so a
// reboot before etcd writes its data directory loses it) only after the re-issue delay and only while this
// node's own etcd data directory is still empty. Pure: the runner supplies every fact and the time.

/** What the runner's latest round says about etcd across the quorum (the evidence rules of the README). */
export type ClusterEvidence = 'not-bootstrapped' | 'bootstrapped' | 'unknown';

export interface GateInput {
  self: string;
  chosen: string | undefined;
  /** When the chosen value was learned (wall ms), for the message only. */
  chosenAtMs: number | undefined;
  /** The agreement's quorum error (q not a majority), if any. */
  quorumError: string | undefined;
  evidence: ClusterEvidence;
  /** This node's etcd data directory: true only when positively seen empty. */
  ownDataDirEmpty: boolean | undefined;
  /** This node's etcd: false only when positively seen not running. */
  ownEtcdRunning: boolean | undefined;
  /** Monotonic ms of this process's last accepted Bootstrap call, if any. */
  lastIssuedAt: number | undefined;
  /** The durable record that this node called Bootstrap before (in an earlier process or boot). */
  issuedBefore: boolean;
  /** This boot (the kernel's boot_id, src/host/boot-id.ts); undefined if unread. */
  bootId?: string;
  /** The boot in which Talos answered this node's Bootstrap with success (durable), if any. */
  acceptedBootId?: string;
  /** This node's etcd service is Failed: a Bootstrap Talos still holds will not start it by itself. */
  ownEtcdFailed?: boolean;
  /** Monotonic ms when this process started. */
  startedAt: number;
  now: number;
  reissueDelayMs: number;
}

export type GateReason = 'quorum-error' | 'not-chosen-yet' | 'other-chosen' | 'own-etcd' | 'evidence' | 'accepted-this-boot' | 'reissue-delay';

export type Gate = { kind: 'call'; reissue: boolean; message: string } | { kind: 'wait'; reason: GateReason; message: string };

/** The documented recovery when the chosen node never comes back (docs/agreement.md, "Recovery"). */
export const CHOSEN_GONE_RECOVERY =
  'if that node is gone for good, no other node will ever bootstrap: bootstrap by hand on ONE control plane (talosctl -n <node> bootstrap) after making sure no etcd data exists anywhere, see docs/agreement.md';

function since(ms: number | undefined): string {
  return ms === undefined ? '' : ` since ${new Date(ms).toISOString()}`;
}

export function bootstrapGate(i: GateInput): Gate {
  if (i.quorumError !== undefined) return { kind: 'wait', reason: 'quorum-error', message: `never bootstrapping: ${i.quorumError}` };
  if (i.chosen === undefined) return { kind: 'wait', reason: 'not-chosen-yet', message: 'no bootstrapper chosen yet' };
  if (i.chosen !== i.self) {
    return { kind: 'wait', reason: 'other-chosen', message: `${i.chosen} was chosen as the one node that bootstraps${since(i.chosenAtMs)}; this node never calls Bootstrap; ${CHOSEN_GONE_RECOVERY}` };
  }
  if (i.ownDataDirEmpty !== true || i.ownEtcdRunning !== false) {
    const what = i.ownEtcdRunning === true ? 'runs' : i.ownDataDirEmpty === false ? 'has data' : 'state is unknown';
    return { kind: 'wait', reason: 'own-etcd', message: `this node is the chosen bootstrapper, but its etcd ${what}: no Bootstrap call` };
  }
  if (i.evidence !== 'not-bootstrapped') return { kind: 'wait', reason: 'evidence', message: `this node is the chosen bootstrapper; cluster is ${i.evidence}: no Bootstrap call` };
  const reissue = i.lastIssuedAt !== undefined || i.issuedBefore;
  // Talos keeps an accepted Bootstrap in memory until etcd starts, and loses it only in a reboot. Calling again
  // in the same boot gains nothing while etcd prepares (it pulls its image), and a call that lands as etcd
  // writes its data directory stops that etcd for good (services/etcd.go:820-822, test/sim/README.md).
  if (reissue && i.acceptedBootId !== undefined && i.bootId === i.acceptedBootId && i.ownEtcdFailed !== true) {
    return {
      kind: 'wait',
      reason: 'accepted-this-boot',
      message: `Talos accepted this node's Bootstrap in this boot (boot_id ${i.acceptedBootId}) and keeps it until etcd starts; etcd is not running yet (still pulling its image?): not calling Bootstrap again unless this node reboots first or its etcd fails; see talosctl logs etcd`,
    };
  }
  const from = i.lastIssuedAt ?? (i.issuedBefore ? i.startedAt : undefined);
  if (from !== undefined && i.now - from < i.reissueDelayMs) {
    const left = i.reissueDelayMs - (i.now - from);
    return { kind: 'wait', reason: 'reissue-delay', message: `Bootstrap was accepted before but etcd has not started; re-issuing in ${Math.ceil(left / 1000)}s if this node's etcd data directory is still empty` };
  }
  return { kind: 'call', reissue, message: reissue ? 'etcd never started after the accepted Bootstrap (lost in a reboot?) and this node\'s etcd data directory is empty: re-issuing Bootstrap' : 'this node is the chosen bootstrapper and no cluster exists: calling Bootstrap' };
}
