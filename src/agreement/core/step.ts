// The agreement protocol as a pure state machine, in raft's style: step(state, input, env) returns the next
// state, the durable state to persist (if it changed), the messages to send and what happened. No I/O, no
// clock, no randomness of its own: time and a random number come in with each input.
//
// The runtime's one ordering rule: write `persist` to disk (fsync) BEFORE sending any of `send` and before
// acting on `act`. A promise or acceptance that leaves the node is then never forgotten.
//
// Messages a node addresses to itself are delivered inside the same step (its own acceptor answers its own
// proposer), so a one-node cluster needs no network.
import { compareBallots, formatBallot, sameBallot, type Ballot } from './ballot.ts';
import type { AcceptedValue, Body, Message } from './messages.ts';
import { paramsMismatch, quorumTooSmall } from './params.ts';
import type { AgreementState, DurableState, View } from './state.ts';

export type Input = { kind: 'tick' } | { kind: 'view'; view: View } | { kind: 'message'; message: Message };

/** What the runtime provides with every input. */
export interface Env {
  /** Monotonic ms; never goes back. */
  now: number;
  /** Wall-clock ms, only recorded (when the outcome was learned), never compared. */
  wallNow: number;
  /** A uniform random number in [0, 1), for the backoff's jitter. */
  random: number;
}

export interface Outbound {
  to: string;
  message: Message;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type Act =
  | { kind: 'log'; level: LogLevel; event: string; message: string; fields: Record<string, unknown> }
  /** This node learned the chosen value (once per process; again after a restart only via the durable state). */
  | { kind: 'learned'; value: string };

export interface StepResult {
  state: AgreementState;
  /** The whole durable state, when it changed: persist it before sending and acting. */
  persist: DurableState | undefined;
  send: Outbound[];
  act: Act[];
}

/** Behaviour switches that break the protocol on purpose; only the simulation's broken variants set them. */
export interface Faults {
  /** Counts a quorum as `quorum - 1` replies (the "floor(N/2)" bug). */
  quorumOffByOne?: boolean;
  /** Never notices that q is not a majority of the control planes seen (no quorum error, no refusal). */
  ignoreSeen?: boolean;
}

interface Ctx {
  state: AgreementState;
  env: Env;
  durableChanged: boolean;
  send: Outbound[];
  act: Act[];
  selfQueue: Message[];
  faults: Faults;
}

export function step(state: AgreementState, input: Input, env: Env, faults: Faults = {}): StepResult {
  const ctx: Ctx = { state, env, durableChanged: false, send: [], act: [], selfQueue: [], faults };
  switch (input.kind) {
    case 'tick':
      onTick(ctx);
      break;
    case 'view':
      onView(ctx, input.view);
      break;
    case 'message':
      onMessage(ctx, input.message);
      break;
  }
  // Messages to itself, until none are left (a proposer and its own acceptor talk without the network).
  for (let guard = 0; ctx.selfQueue.length > 0; guard++) {
    if (guard > 1000) throw new Error('agreement: self-delivery did not settle');
    onMessage(ctx, ctx.selfQueue.shift() as Message);
  }
  return { state: ctx.state, persist: ctx.durableChanged ? ctx.state.durable : undefined, send: ctx.send, act: ctx.act };
}

function quorumSize(ctx: Ctx): number {
  return ctx.faults.quorumOffByOne ? Math.max(1, ctx.state.params.quorum - 1) : ctx.state.params.quorum;
}

function log(ctx: Ctx, level: LogLevel, event: string, message: string, fields: Record<string, unknown> = {}): void {
  ctx.act.push({ kind: 'log', level, event, message, fields });
}

function update(ctx: Ctx, patch: Partial<AgreementState>): void {
  ctx.state = { ...ctx.state, ...patch };
}

function updateDurable(ctx: Ctx, patch: Partial<DurableState>): void {
  ctx.state = { ...ctx.state, durable: { ...ctx.state.durable, ...patch } };
  ctx.durableChanged = true;
}

function sendTo(ctx: Ctx, to: string, body: Body): void {
  const message: Message = { from: ctx.state.self, params: ctx.state.params, body };
  if (to === ctx.state.self) ctx.selfQueue.push(message);
  else ctx.send.push({ to, message });
}

function seeRound(ctx: Ctx, b: Ballot | undefined): void {
  if (b && b.round > ctx.state.maxRound) update(ctx, { maxRound: b.round });
}

// --- inputs ------------------------------------------------------------------------------------------

function onView(ctx: Ctx, view: View): void {
  update(ctx, { view });
  const { quorum, controlPlanes } = ctx.state.params;
  const error = ctx.faults.ignoreSeen ? undefined : quorumTooSmall(quorum, controlPlanes, view.seen);
  // The count that proves the error is durable: a restart must not forget it (docs/agreement.md).
  if (!ctx.faults.ignoreSeen && quorumTooSmall(quorum, undefined, view.seen) !== undefined && view.seen > (ctx.state.durable.maxSeen ?? 0)) updateDurable(ctx, { maxSeen: view.seen });
  if (ctx.state.quorumError === undefined && error !== undefined) {
    update(ctx, { quorumError: error, proposer: { kind: 'idle' } });
    log(ctx, 'error', 'quorum-not-majority', error, { quorum, controlPlanes, seen: view.seen });
  }
  maybeAnnounce(ctx);
  maybePropose(ctx);
}

function onTick(ctx: Ctx): void {
  const p = ctx.state.proposer;
  const now = ctx.env.now;
  if ((p.kind === 'preparing' || p.kind === 'accepting') && now >= p.deadline) {
    const have = p.kind === 'preparing' ? Object.keys(p.promises).length : p.accepted.length;
    backOff(ctx, `${p.kind === 'preparing' ? 'promises' : 'acceptances'} ${have}/${ctx.state.params.quorum} for ballot ${formatBallot(p.ballot)} within ${ctx.state.tunables.phaseTimeoutMs}ms`);
  } else if (p.kind === 'backoff' && now >= p.until) {
    update(ctx, { proposer: { kind: 'idle' } });
  }
  maybeAnnounce(ctx);
  maybePropose(ctx);
}

function onMessage(ctx: Ctx, m: Message): void {
  const mismatch = paramsMismatch(ctx.state.params, m.params);
  if (mismatch.length > 0) {
    const what = mismatch.map((x) => `${x.field} ours=${x.ours} theirs=${x.theirs}`).join(', ');
    const fix = mismatch.some((x) => x.field === 'clusterId')
      ? 'it belongs to another cluster (another OS CA) and never takes part'
      : 'set the same TALOS_AUTO_BOOTSTRAP_QUORUM_NODES and TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES on every control plane';
    log(ctx, 'error', 'peer-refused', `refusing agreement messages from ${m.from}: its configuration differs (${what}); ${fix}`, { peer: m.from, mismatch });
    if (m.body.type !== 'refused') sendTo(ctx, m.from, { type: 'refused', reason: what });
    return;
  }
  const b = m.body;
  switch (b.type) {
    case 'prepare':
      return onPrepare(ctx, m.from, b.ballot);
    case 'accept':
      return onAccept(ctx, m.from, b.ballot, b.value);
    case 'promise':
      return onPromise(ctx, m.from, b.ballot, b.accepted);
    case 'accepted':
      return onAccepted(ctx, m.from, b.ballot, b.value);
    case 'nack':
      return onNack(ctx, m.from, b.ballot, b.promised);
    case 'chosen':
      learn(ctx, b.value, m.from);
      if (m.from !== ctx.state.self) sendTo(ctx, m.from, { type: 'chosen-ack', value: b.value });
      return;
    case 'chosen-ack':
      if (!ctx.state.chosenAcked.includes(m.from)) update(ctx, { chosenAcked: [...ctx.state.chosenAcked, m.from] });
      return;
    case 'refused':
      log(ctx, 'error', 'refused-by-peer', `${m.from} refuses this node's agreement messages: ${b.reason}`, { peer: m.from, reason: b.reason });
      return;
  }
}

// --- acceptor ----------------------------------------------------------------------------------------

/**
 * An acceptor that knows q is not a majority takes no part: its promise or acceptance could complete one of
 * two disjoint quorums. The proposer logs the refusal and gets no quorum from it.
 */
function refuseOnQuorumError(ctx: Ctx, from: string): boolean {
  const error = ctx.state.quorumError;
  if (error === undefined || from === ctx.state.self) return error !== undefined;
  sendTo(ctx, from, { type: 'refused', reason: `this node never promises or accepts: ${error}` });
  return true;
}

function onPrepare(ctx: Ctx, from: string, ballot: Ballot): void {
  seeRound(ctx, ballot);
  if (refuseOnQuorumError(ctx, from)) return;
  const d = ctx.state.durable;
  if (d.chosen !== undefined) return sendTo(ctx, from, { type: 'chosen', value: d.chosen });
  if (compareBallots(ballot, d.promised) < 0) return sendTo(ctx, from, { type: 'nack', ballot, promised: d.promised as Ballot });
  if (!sameBallot(ballot, d.promised)) updateDurable(ctx, { promised: ballot });
  sendTo(ctx, from, { type: 'promise', ballot, accepted: d.accepted });
}

function onAccept(ctx: Ctx, from: string, ballot: Ballot, value: string): void {
  seeRound(ctx, ballot);
  if (refuseOnQuorumError(ctx, from)) return;
  const d = ctx.state.durable;
  if (d.chosen !== undefined) return sendTo(ctx, from, { type: 'chosen', value: d.chosen });
  if (compareBallots(ballot, d.promised) < 0) return sendTo(ctx, from, { type: 'nack', ballot, promised: d.promised as Ballot });
  if (!sameBallot(ballot, d.accepted?.ballot) || d.accepted?.value !== value) {
    updateDurable(ctx, { promised: ballot, accepted: { ballot, value } });
  }
  sendTo(ctx, from, { type: 'accepted', ballot, value });
}

// --- learner -----------------------------------------------------------------------------------------

function learn(ctx: Ctx, value: string, from: string): void {
  const known = ctx.state.durable.chosen;
  if (known === value) return;
  if (known !== undefined) {
    // Impossible while acceptors keep their state and q is a majority; said loudly if it ever happens.
    log(ctx, 'error', 'chosen-conflict', `${from} announces ${value} as chosen, but this node learned ${known}: an acceptor lost its state or q is not a majority; keeping ${known}, never bootstrapping elsewhere`, { known, announced: value, peer: from });
    return;
  }
  updateDurable(ctx, { chosen: value, chosenAtMs: ctx.env.wallNow });
  update(ctx, { proposer: { kind: 'idle' }, chosenAcked: [], chosenSentAt: undefined });
  ctx.act.push({ kind: 'learned', value });
  log(ctx, 'info', 'chosen-learned', `${value} is the chosen bootstrapper (learned from ${from === ctx.state.self ? 'this node\'s own proposal' : from}); it never changes`, { chosen: value, from });
  maybeAnnounce(ctx);
}

/** A node that knows the outcome tells the verified peers that have not acknowledged it, every so often. */
function maybeAnnounce(ctx: Ctx): void {
  const s = ctx.state;
  const chosen = s.durable.chosen;
  if (chosen === undefined || s.view === undefined) return;
  if (s.chosenSentAt !== undefined && ctx.env.now - s.chosenSentAt < s.tunables.chosenResendMs) return;
  const targets = s.view.verified.filter((p) => p !== s.self && !s.chosenAcked.includes(p));
  if (targets.length === 0) return;
  update(ctx, { chosenSentAt: ctx.env.now });
  for (const t of targets) sendTo(ctx, t, { type: 'chosen', value: chosen });
}

// --- proposer ----------------------------------------------------------------------------------------

function maybePropose(ctx: Ctx): void {
  const s = ctx.state;
  if (s.durable.chosen !== undefined || s.quorumError !== undefined || s.proposer.kind !== 'idle') return;
  const v = s.view;
  if (v === undefined || !v.leads || !v.verified.includes(s.self) || v.verified.length < s.params.quorum) return;
  const ballot: Ballot = { round: s.maxRound + 1, proposer: s.self };
  const targets = [...new Set(v.verified)].sort();
  update(ctx, { maxRound: ballot.round, proposer: { kind: 'preparing', ballot, promises: {}, targets, deadline: ctx.env.now + s.tunables.phaseTimeoutMs } });
  log(ctx, 'info', 'propose', `proposing at ballot ${formatBallot(ballot)} to ${targets.join(', ')}`, { ballot, targets });
  for (const t of targets) sendTo(ctx, t, { type: 'prepare', ballot });
}

function onPromise(ctx: Ctx, from: string, ballot: Ballot, accepted: AcceptedValue | undefined): void {
  const p = ctx.state.proposer;
  if (p.kind !== 'preparing' || !sameBallot(p.ballot, ballot)) return;
  const promises = { ...p.promises, [from]: accepted ?? null };
  if (Object.keys(promises).length < quorumSize(ctx)) {
    update(ctx, { proposer: { ...p, promises } });
    return;
  }
  // Paxos's rule: the value accepted at the highest ballot among the promises, else this node itself.
  let highest: AcceptedValue | undefined;
  for (const a of Object.values(promises)) if (a && compareBallots(a.ballot, highest?.ballot) > 0) highest = a;
  const value = highest?.value ?? ctx.state.self;
  update(ctx, { proposer: { kind: 'accepting', ballot, value, accepted: [], targets: p.targets, deadline: ctx.env.now + ctx.state.tunables.phaseTimeoutMs } });
  log(ctx, 'info', 'accept-phase', `promises from ${Object.keys(promises).sort().join(', ')}; asking to accept ${value} at ballot ${formatBallot(ballot)}${highest ? ` (already accepted at ${formatBallot(highest.ballot)})` : ''}`, { ballot, value });
  for (const t of p.targets) sendTo(ctx, t, { type: 'accept', ballot, value });
}

function onAccepted(ctx: Ctx, from: string, ballot: Ballot, value: string): void {
  const p = ctx.state.proposer;
  if (p.kind !== 'accepting' || !sameBallot(p.ballot, ballot) || p.value !== value) return;
  const accepted = p.accepted.includes(from) ? p.accepted : [...p.accepted, from];
  if (accepted.length < quorumSize(ctx)) {
    update(ctx, { proposer: { ...p, accepted } });
    return;
  }
  update(ctx, { failures: 0 });
  learn(ctx, value, ctx.state.self);
}

function onNack(ctx: Ctx, from: string, ballot: Ballot, promised: Ballot): void {
  seeRound(ctx, promised);
  const p = ctx.state.proposer;
  if ((p.kind === 'preparing' || p.kind === 'accepting') && sameBallot(p.ballot, ballot)) {
    backOff(ctx, `${from} promised a higher ballot ${formatBallot(promised)}`);
  }
}

function backOff(ctx: Ctx, why: string): void {
  const s = ctx.state;
  const failures = s.failures + 1;
  const cap = Math.min(s.tunables.backoffMaxMs, s.tunables.backoffBaseMs * 2 ** Math.min(failures - 1, 20));
  // Half fixed, half jitter: duelling proposers drift apart instead of colliding again.
  const delay = Math.round(cap / 2 + (cap / 2) * ctx.env.random);
  update(ctx, { failures, proposer: { kind: 'backoff', until: ctx.env.now + delay } });
  log(ctx, 'info', 'proposal-backoff', `proposal stopped: ${why}; trying again in ${delay}ms if this node still leads`, { delayMs: delay });
}
