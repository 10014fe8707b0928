// What every message carries so that daemons configured differently never count each other: the quorum q,
// the control-plane count N when the operator set it, and the cluster identity. Also the two quorum rules:
// q must be a majority of N when N is known, and 2q distinct control planes seen proves it is not.

/** The agreement parameters one daemon runs with; equal on every daemon of one cluster. */
export interface AgreementParams {
  /** TALOS_AUTO_BOOTSTRAP_QUORUM_NODES. */
  quorum: number;
  /** TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES, when set. */
  controlPlanes: number | undefined;
  /** The cluster this daemon belongs to (derived from the OS CA; see docs/agreement.md). */
  clusterId: string;
}

export interface ParamsMismatch {
  field: 'quorum' | 'controlPlanes' | 'clusterId';
  ours: string;
  theirs: string;
}

function show(v: number | string | undefined): string {
  return v === undefined ? 'unset' : String(v);
}

/** Every field that differs, with both values; empty when the peer may take part. */
export function paramsMismatch(ours: AgreementParams, theirs: AgreementParams): ParamsMismatch[] {
  const out: ParamsMismatch[] = [];
  if (ours.clusterId !== theirs.clusterId) out.push({ field: 'clusterId', ours: ours.clusterId, theirs: theirs.clusterId });
  if (ours.quorum !== theirs.quorum) out.push({ field: 'quorum', ours: show(ours.quorum), theirs: show(theirs.quorum) });
  if (ours.controlPlanes !== theirs.controlPlanes) out.push({ field: 'controlPlanes', ours: show(ours.controlPlanes), theirs: show(theirs.controlPlanes) });
  return out;
}

/** The smallest majority of n: floor(n/2)+1. */
export function majorityOf(n: number): number {
  return Math.floor(n / 2) + 1;
}

/**
 * With N unknown, q is surely not a majority once 2q or more distinct control planes of this cluster have
 * been seen: then two disjoint sets of q nodes exist (q=2 with 3 seen is fine; q=2 with 4 is not; q=1
 * with 2 is not). Returns the error text, or undefined when nothing proves q too small.
 */
export function quorumTooSmall(quorum: number, controlPlanes: number | undefined, seen: number): string | undefined {
  if (controlPlanes !== undefined && quorum < majorityOf(controlPlanes)) {
    return `TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=${quorum} is not a majority of TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=${controlPlanes}; set it to at least ${majorityOf(controlPlanes)}`;
  }
  if (seen >= 2 * quorum) {
    return (
      `${seen} distinct control planes of this cluster are visible, but TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=${quorum}: ` +
      `two separate groups of ${quorum} could each choose a bootstrapper, so this node never bootstraps; ` +
      `set TALOS_AUTO_BOOTSTRAP_QUORUM_NODES to at least ${majorityOf(seen)} (a majority of the control planes; ` +
      `set TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES to the real count too) and restart the service`
    );
  }
  return undefined;
}
