// Protocol messages to and from their wire form (agreement.proto). Anything malformed is rejected with a
// reason, never guessed: a message that does not decode is dropped by the receiver.
import type { Ballot } from '../core/ballot.ts';
import type { AcceptedValue, Body, Message } from '../core/messages.ts';
import type { AgreementParams } from '../core/params.ts';

export interface WireBallot {
  round: string | number;
  proposer: string;
}
interface WireAccepted {
  ballot: WireBallot | null;
  value: string;
}
export interface WireParams {
  quorum: number;
  control_planes: number;
  cluster_id: string;
}
export interface WireEnvelope {
  from: string;
  params: WireParams | null;
  body?: string;
  prepare?: { ballot: WireBallot | null };
  promise?: { ballot: WireBallot | null; accepted: WireAccepted | null };
  accept?: { ballot: WireBallot | null; value: string };
  accepted?: { ballot: WireBallot | null; value: string };
  nack?: { ballot: WireBallot | null; promised: WireBallot | null };
  chosen?: { value: string };
  chosen_ack?: { value: string };
  refused?: { reason: string };
}

export class DecodeError extends Error {}

const wb = (b: Ballot): WireBallot => ({ round: String(b.round), proposer: b.proposer });

export function toWireParams(p: AgreementParams): WireParams {
  return { quorum: p.quorum, control_planes: p.controlPlanes ?? 0, cluster_id: p.clusterId };
}

export function fromWireParams(p: WireParams | null | undefined): AgreementParams {
  if (!p) throw new DecodeError('no params');
  return { quorum: p.quorum, controlPlanes: p.control_planes === 0 ? undefined : p.control_planes, clusterId: p.cluster_id };
}

export function encode(m: Message): WireEnvelope {
  const base = { from: m.from, params: toWireParams(m.params) };
  const b = m.body;
  switch (b.type) {
    case 'prepare':
      return { ...base, prepare: { ballot: wb(b.ballot) } };
    case 'promise':
      return { ...base, promise: { ballot: wb(b.ballot), accepted: b.accepted ? { ballot: wb(b.accepted.ballot), value: b.accepted.value } : null } };
    case 'accept':
      return { ...base, accept: { ballot: wb(b.ballot), value: b.value } };
    case 'accepted':
      return { ...base, accepted: { ballot: wb(b.ballot), value: b.value } };
    case 'nack':
      return { ...base, nack: { ballot: wb(b.ballot), promised: wb(b.promised) } };
    case 'chosen':
      return { ...base, chosen: { value: b.value } };
    case 'chosen-ack':
      return { ...base, chosen_ack: { value: b.value } };
    case 'refused':
      return { ...base, refused: { reason: b.reason } };
  }
}

function ballot(w: WireBallot | null | undefined): Ballot {
  const round = Number(w?.round);
  if (!w || !Number.isSafeInteger(round) || round < 1 || typeof w.proposer !== 'string' || w.proposer === '') throw new DecodeError('bad ballot');
  return { round, proposer: w.proposer };
}

function value(v: string | undefined): string {
  if (typeof v !== 'string' || v === '') throw new DecodeError('empty value');
  return v;
}

export function decode(w: WireEnvelope): Message {
  if (typeof w.from !== 'string' || w.from === '') throw new DecodeError('no sender');
  const params = fromWireParams(w.params);
  let body: Body;
  switch (w.body) {
    case 'prepare':
      body = { type: 'prepare', ballot: ballot(w.prepare?.ballot) };
      break;
    case 'promise': {
      const a = w.promise?.accepted;
      const accepted: AcceptedValue | undefined = a ? { ballot: ballot(a.ballot), value: value(a.value) } : undefined;
      body = { type: 'promise', ballot: ballot(w.promise?.ballot), accepted };
      break;
    }
    case 'accept':
      body = { type: 'accept', ballot: ballot(w.accept?.ballot), value: value(w.accept?.value) };
      break;
    case 'accepted':
      body = { type: 'accepted', ballot: ballot(w.accepted?.ballot), value: value(w.accepted?.value) };
      break;
    case 'nack':
      body = { type: 'nack', ballot: ballot(w.nack?.ballot), promised: ballot(w.nack?.promised) };
      break;
    case 'chosen':
      body = { type: 'chosen', value: value(w.chosen?.value) };
      break;
    case 'chosen_ack':
      body = { type: 'chosen-ack', value: value(w.chosen_ack?.value) };
      break;
    case 'refused':
      body = { type: 'refused', reason: w.refused?.reason ?? '' };
      break;
    default:
      throw new DecodeError(`unknown body ${String(w.body)}`);
  }
  return { from: w.from, params, body };
}
