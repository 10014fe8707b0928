// What the runner needs from the agreement, and its implementation over AgreementRuntime: every round feeds
// the runner's view; at the final check (this node leads, sees q verified control planes, and has positive
// not-bootstrapped evidence) it proposes, waits a bounded time for the outcome, and asks the bootstrap gate.
import type { Candidate, Observation } from '../bootstrap/core/observation.ts';
import { sleep } from '../util/sleep.ts';
import { bootstrapGate, type ClusterEvidence, type Gate } from './core/bootstrap-gate.ts';
import type { AgreementRuntime } from './runtime.ts';

/**
 * The identity a node has in the agreement: the value chosen and every ballot's proposer. It must be the
 * same in every view and never change. Until the node identity of Talos is read (the evidence work), this
 * is the node's address: the one its daemon is configured with (NODE_IP) and the one its peers verify it at.
 */
export function agreementIdentity(c: Pick<Candidate, 'address'>): string {
  return c.address;
}

export interface BootstrapAgreement {
  /** The chosen bootstrapper's identity, once this node knows it. */
  readonly chosen: string | undefined;
  /** Set when q cannot be a majority: never bootstrap. */
  readonly quorumError: string | undefined;
  /** Every round. `leads` only at the final check; `seen` = distinct control planes of this cluster seen. */
  view(observation: Observation, leads: boolean, seen: number): void;
  /**
   * At the final check: feeds the view as leader, waits up to its bound for the outcome, then says whether
   * this node may call Bootstrap now (src/agreement/core/bootstrap-gate.ts).
   */
  gate(observation: Observation, signal: AbortSignal): Promise<Gate>;
  /** Talos accepted this node's Bootstrap. */
  bootstrapAccepted(): void;
  /** The gate's answer without proposing (for the follower's log line). */
  peek(observation: Observation, evidence: ClusterEvidence): Gate;
}

export interface LinkOptions {
  runtime: AgreementRuntime;
  self: string;
  reissueDelayMs: number;
  /** How long the final check waits for the outcome before the runner's next round, ms. */
  outcomeWaitMs: number;
  /** Monotonic ms. */
  now: () => number;
}

export class RunnerAgreement implements BootstrapAgreement {
  private readonly startedAt: number;
  private lastIssuedAt: number | undefined;

  constructor(private readonly o: LinkOptions) {
    this.startedAt = o.now();
  }

  get chosen(): string | undefined {
    return this.o.runtime.chosen;
  }

  get quorumError(): string | undefined {
    return this.o.runtime.quorumError;
  }

  view(observation: Observation, leads: boolean, seen: number): void {
    const verified = observation.controlPlanes.map(agreementIdentity);
    // The runtime ticks with every view: timeouts and backoffs are checked at least once per round.
    this.o.runtime.view({ verified, leads, seen: Math.max(seen, verified.length) });
    this.o.runtime.tick();
  }

  async gate(observation: Observation, signal: AbortSignal): Promise<Gate> {
    this.view(observation, true, observation.controlPlanes.length);
    const until = this.o.now() + this.o.outcomeWaitMs;
    while (this.o.runtime.chosen === undefined && this.o.runtime.quorumError === undefined && this.o.now() < until) {
      await sleep(100, signal);
      this.o.runtime.tick();
    }
    return this.peek(observation, 'not-bootstrapped');
  }

  peek(observation: Observation, evidence: ClusterEvidence): Gate {
    const self = observation.controlPlanes.find((c) => agreementIdentity(c) === this.o.self);
    // gate() is called only at the final check, with positive not-bootstrapped evidence from the quorum.
    // This node's own etcd: not running when its service was seen waiting (Preparing). Its data directory:
    // Talos itself refuses Bootstrap with AlreadyExists once it is not empty, which the runner treats as
    // "re-check"; the evidence work adds the directory listing itself.
    return bootstrapGate({
      self: this.o.self,
      chosen: this.o.runtime.chosen,
      chosenAtMs: this.o.runtime.chosenAtMs,
      quorumError: this.o.runtime.quorumError,
      evidence,
      ownDataDirEmpty: self?.etcd === 'not-running' ? true : undefined,
      ownEtcdRunning: self?.etcd === 'running' ? true : self?.etcd === 'not-running' ? false : undefined,
      lastIssuedAt: this.lastIssuedAt,
      issuedBefore: this.o.runtime.bootstrapIssued,
      startedAt: this.startedAt,
      now: this.o.now(),
      reissueDelayMs: this.o.reissueDelayMs,
    });
  }

  bootstrapAccepted(): void {
    this.lastIssuedAt = this.o.now();
    this.o.runtime.markBootstrapIssued();
  }
}
