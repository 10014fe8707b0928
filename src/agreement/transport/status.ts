// The read-only agreement state one node reports (Status RPC), for `autobootstrap status` and the logs.
import type { Ballot } from '../core/ballot.ts';
import type { AcceptedValue } from '../core/messages.ts';
import type { AgreementParams } from '../core/params.ts';
import type { AgreementState } from '../core/state.ts';
import { fromWireParams, toWireParams, type WireBallot, type WireParams } from './codec.ts';

export interface AgreementStatus {
  node: string;
  params: AgreementParams;
  promised: Ballot | undefined;
  accepted: AcceptedValue | undefined;
  /** The chosen bootstrapper once this node learned it. */
  chosen: string | undefined;
  /** Wall-clock ms when this node learned it. */
  chosenAtMs: number | undefined;
  quorumError: string | undefined;
  bootstrapIssued: boolean;
  /** idle, preparing, accepting, backoff, chosen, or quorum-error. */
  phase: string;
}

export function statusOf(s: AgreementState): AgreementStatus {
  const phase = s.quorumError ? 'quorum-error' : s.durable.chosen !== undefined ? 'chosen' : s.proposer.kind;
  return {
    node: s.self,
    params: s.params,
    promised: s.durable.promised,
    accepted: s.durable.accepted,
    chosen: s.durable.chosen,
    chosenAtMs: s.durable.chosenAtMs,
    quorumError: s.quorumError,
    bootstrapIssued: s.durable.bootstrapIssued,
    phase,
  };
}

export interface WireStatus {
  node: string;
  params: WireParams | null;
  promised: WireBallot | null;
  accepted: { ballot: WireBallot | null; value: string } | null;
  chosen: string;
  chosen_at_unix_ms: string | number;
  quorum_error: string;
  bootstrap_issued: boolean;
  phase: string;
}

const wb = (b: Ballot | undefined): WireBallot | null => (b ? { round: String(b.round), proposer: b.proposer } : null);
const rb = (w: WireBallot | null | undefined): Ballot | undefined => (w ? { round: Number(w.round), proposer: w.proposer } : undefined);

export function toWireStatus(s: AgreementStatus): WireStatus {
  return {
    node: s.node,
    params: toWireParams(s.params),
    promised: wb(s.promised),
    accepted: s.accepted ? { ballot: wb(s.accepted.ballot), value: s.accepted.value } : null,
    chosen: s.chosen ?? '',
    chosen_at_unix_ms: String(s.chosenAtMs ?? 0),
    quorum_error: s.quorumError ?? '',
    bootstrap_issued: s.bootstrapIssued,
    phase: s.phase,
  };
}

export function fromWireStatus(w: WireStatus): AgreementStatus {
  const acceptedBallot = rb(w.accepted?.ballot);
  const at = Number(w.chosen_at_unix_ms);
  return {
    node: w.node,
    params: fromWireParams(w.params),
    promised: rb(w.promised),
    accepted: w.accepted && acceptedBallot ? { ballot: acceptedBallot, value: w.accepted.value } : undefined,
    chosen: w.chosen === '' ? undefined : w.chosen,
    chosenAtMs: at > 0 ? at : undefined,
    quorumError: w.quorum_error === '' ? undefined : w.quorum_error,
    bootstrapIssued: w.bootstrap_issued,
    phase: w.phase,
  };
}
