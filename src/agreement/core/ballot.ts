// Ballots order proposals: first by round, then by the proposer's node identity, so two proposers can never
// hold the same ballot and every pair of ballots compares one way on every node.

/** A Paxos ballot: `round` counts up from 1; `proposer` is the node identity of the node that started it. */
export interface Ballot {
  round: number;
  proposer: string;
}

/** Negative when a < b, zero when equal, positive when a > b. `undefined` is below every ballot. */
export function compareBallots(a: Ballot | undefined, b: Ballot | undefined): number {
  if (a === undefined) return b === undefined ? 0 : -1;
  if (b === undefined) return 1;
  if (a.round !== b.round) return a.round < b.round ? -1 : 1;
  return a.proposer < b.proposer ? -1 : a.proposer > b.proposer ? 1 : 0;
}

export function sameBallot(a: Ballot | undefined, b: Ballot | undefined): boolean {
  return compareBallots(a, b) === 0;
}

export function formatBallot(b: Ballot | undefined): string {
  return b === undefined ? 'none' : `${b.round}/${b.proposer}`;
}
