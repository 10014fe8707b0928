// The protocol's messages: single-decree Paxos (prepare/promise, accept/accepted) plus a "chosen"
// announcement so that every daemon learns the outcome, and a refusal for peers configured differently.
import type { Ballot } from './ballot.ts';
import type { AgreementParams } from './params.ts';

/** A value an acceptor accepted: the node identity of the one node that may ever call Bootstrap. */
export interface AcceptedValue {
  ballot: Ballot;
  value: string;
}

export type Body =
  /** Phase 1a: a proposer asks acceptors to promise to ignore every ballot below `ballot`. */
  | { type: 'prepare'; ballot: Ballot }
  /** Phase 1b: the promise, with the highest-ballot value this acceptor accepted so far. */
  | { type: 'promise'; ballot: Ballot; accepted: AcceptedValue | undefined }
  /** Phase 2a: a proposer asks acceptors to accept `value` at `ballot`. */
  | { type: 'accept'; ballot: Ballot; value: string }
  /** Phase 2b. */
  | { type: 'accepted'; ballot: Ballot; value: string }
  /** A prepare or accept below this acceptor's promise: `promised` lets the proposer jump past it. */
  | { type: 'nack'; ballot: Ballot; promised: Ballot }
  /** The value is chosen (a quorum accepted it at one ballot). */
  | { type: 'chosen'; value: string }
  /** The receiver knows the outcome now; the sender stops repeating it. */
  | { type: 'chosen-ack'; value: string }
  /** The sender's parameters differ from the receiver's: nothing else from it counts. */
  | { type: 'refused'; reason: string };

/** Every message carries the sender's parameters; a receiver with different ones refuses it. */
export interface Message {
  from: string;
  params: AgreementParams;
  body: Body;
}
