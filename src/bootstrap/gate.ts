// The seam between "this node may bootstrap as far as the evidence goes" and the Bootstrap call. The
// runner calls the gate only when, in one fresh final check: this node leads in its own view (boot time,
// then the tie-break key of core/elect.ts), it sees at least QUORUM_NODES verified control planes, every
// one of them gave positive "not bootstrapped" evidence (empty etcd data directory, no etcd running), and
// that evidence is at most EVIDENCE_MAX_AGE_MS old. Agreement between the control planes on who may
// bootstrap plugs in here; without one the gate lets the call go ahead.
import type { Candidate, NodeIdentity } from '../model/candidate.ts';
import type { Observation } from './core/observation.ts';

export interface BootstrapGateInput {
  /** This node (the leader in its own view). */
  self: Candidate;
  /** Every verified control plane of the final check, self included; all with positive evidence. */
  controlPlanes: Candidate[];
  quorumNodes: number;
  /** Monotonic ms (the runner's clock) of the oldest answer the evidence rests on. */
  evidenceAt: number;
  signal: AbortSignal;
}

export type BootstrapGateVerdict =
  /** Call Bootstrap now (the runner re-checks the evidence age right before it). */
  | { kind: 'proceed' }
  /** Not now: the runner logs `message` and starts over with a fresh round after `retryInMs`. */
  | { kind: 'wait'; message: string; retryInMs: number }
  /** Another node was chosen: this one never calls Bootstrap; the runner waits as a follower of `chosen`. */
  | { kind: 'other-chosen'; chosen: NodeIdentity; message: string };

export type BootstrapGate = (input: BootstrapGateInput) => Promise<BootstrapGateVerdict>;

/** No agreement: the evidence alone decides. */
export const PROCEED_GATE: BootstrapGate = () => Promise.resolve({ kind: 'proceed' });

/**
 * The agreement around the gate (src/agreement/runner-link.ts, docs/agreement.md): the chosen node, once
 * known, leads whatever the boot times say (a reboot that moves its boot time does not move it), and the
 * agreement sees every round (its view of the verified control planes, and how many were seen).
 */
export interface AgreementHooks {
  gate: BootstrapGate;
  /** The chosen bootstrapper's node identity, once this node knows it. */
  chosen(): NodeIdentity | undefined;
  /** Every round, after its decision; `controlPlanesSeen`: distinct control planes verified or listed as members. */
  observe(observation: Observation, controlPlanesSeen: number): void;
  /**
   * Right before the Bootstrap call: recorded durably, since a call whose answer is lost may still have been
   * accepted (the re-issue delay then counts from here).
   */
  bootstrapCalling(): void;
  /** Talos answered the call with a refusal (a gRPC code it sends itself): nothing was accepted. */
  bootstrapRefused(): void;
  /** Talos answered the call with success: recorded durably with this boot's id, as Talos holds it until etcd starts. */
  bootstrapAccepted(): void;
}
