// The state of one daemon's agreement: the durable part (what its acceptor promised and accepted, and the
// outcome once learned) and the volatile part (its proposer's current attempt), kept apart so the runtime
// knows exactly what must reach disk before a reply leaves.
import type { Ballot } from './ballot.ts';
import type { AcceptedValue } from './messages.ts';
import { quorumTooSmall, type AgreementParams } from './params.ts';

/** What an acceptor must never forget. Written to disk before any message that depends on it is sent. */
export interface DurableState {
  /** The highest ballot this acceptor promised (phase 1b) or accepted at. */
  promised: Ballot | undefined;
  /** The value accepted at the highest ballot, if any. */
  accepted: AcceptedValue | undefined;
  /** The chosen value once learned; it never changes afterwards. */
  chosen: string | undefined;
  /** Wall-clock ms when this node learned `chosen` (for the log's "since"); not used for any decision. */
  chosenAtMs: number | undefined;
  /** This node called Bootstrap, and Talos may have accepted it (only ever true on the chosen node). */
  bootstrapIssued: boolean;
  /**
   * The most distinct control planes of this cluster seen in one view, recorded once that count proved q is
   * not a majority (2q or more); absent (0) until then. Durable so that the quorum error survives restarts:
   * re-evaluated with the current q and N at every start, so raising q clears it.
   */
  maxSeen?: number;
  /**
   * The kernel's boot_id (src/host/boot-id.ts) when Talos answered this node's Bootstrap call with success:
   * Talos keeps that Bootstrap in memory until etcd starts, for as long as the node stays in that boot. Absent
   * when no call was known to succeed (refused, or its answer lost) or the boot_id could not be read.
   */
  acceptedBootId?: string;
}

export const EMPTY_DURABLE: DurableState = { promised: undefined, accepted: undefined, chosen: undefined, chosenAtMs: undefined, bootstrapIssued: false };

export type ProposerPhase =
  | { kind: 'idle' }
  /** Sent prepare at `ballot`, collecting promises until `deadline` (monotonic ms). */
  | { kind: 'preparing'; ballot: Ballot; promises: Record<string, AcceptedValue | null>; targets: string[]; deadline: number }
  /** Sent accept for `value` at `ballot`, collecting acceptances until `deadline`. */
  | { kind: 'accepting'; ballot: Ballot; value: string; accepted: string[]; targets: string[]; deadline: number }
  /** Lost a duel or timed out: no new attempt before `until` (monotonic ms). */
  | { kind: 'backoff'; until: number };

/** The caller's view of the cluster, refreshed every discovery round. */
export interface View {
  /** Node identities of the verified control planes of this cluster this node sees, itself included. */
  verified: string[];
  /** This node leads in its own view (boot time, then the tie-break key) and has positive evidence. */
  leads: boolean;
  /** Distinct control planes of this cluster seen, verified or listed as control-plane members. */
  seen: number;
}

export interface Tunables {
  /** How long a phase waits for a quorum of replies before backing off, ms. */
  phaseTimeoutMs: number;
  /** First backoff after a lost duel, ms; doubles per consecutive failure, with full jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** How often a node that knows the outcome repeats it to peers that have not acknowledged it, ms. */
  chosenResendMs: number;
}

export const DEFAULT_TUNABLES: Tunables = { phaseTimeoutMs: 5_000, backoffBaseMs: 1_000, backoffMaxMs: 30_000, chosenResendMs: 15_000 };

export interface AgreementState {
  self: string;
  params: AgreementParams;
  tunables: Tunables;
  durable: DurableState;
  proposer: ProposerPhase;
  /** The highest round seen in any message, so a new ballot starts above every one seen. */
  maxRound: number;
  /** Consecutive failed attempts, for the backoff. */
  failures: number;
  view: View | undefined;
  /**
   * Set once 2q or more control planes were seen (or q < floor(N/2)+1), and at start from `durable.maxSeen`:
   * never propose, promise, accept or bootstrap.
   */
  quorumError: string | undefined;
  /** Peers that acknowledged the outcome, and when it was last sent to the others. */
  chosenAcked: string[];
  chosenSentAt: number | undefined;
}

export function initialState(self: string, params: AgreementParams, durable: DurableState, tunables: Tunables = DEFAULT_TUNABLES): AgreementState {
  return {
    self,
    params,
    tunables,
    durable,
    proposer: { kind: 'idle' },
    maxRound: Math.max(durable.promised?.round ?? 0, durable.accepted?.ballot.round ?? 0),
    failures: 0,
    view: undefined,
    // Only a recorded count brings the error back; a q below a majority of N is found on the first view.
    quorumError: durable.maxSeen ? quorumTooSmall(params.quorum, params.controlPlanes, durable.maxSeen) : undefined,
    chosenAcked: [],
    chosenSentAt: undefined,
  };
}
