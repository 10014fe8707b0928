// The agreement as the runner sees it (AgreementHooks, src/bootstrap/gate.ts): every round feeds the core
// this node's view (verified control planes by node identity, how many control planes were seen); the gate,
// called only at the final check (this node leads, sees q verified control planes, and every one of them
// gave positive not-bootstrapped evidence), proposes, waits a bounded time for the outcome, and lets the
// call go ahead only on the chosen node (src/agreement/core/bootstrap-gate.ts).
import type { AgreementHooks, BootstrapGateInput, BootstrapGateVerdict } from '../bootstrap/gate.ts';
import type { Config } from '../config.ts';
import type { Observation } from '../bootstrap/core/observation.ts';
import type { Logger } from '../log.ts';
import type { NodeIdentity } from '../model/candidate.ts';
import { sleep } from '../util/sleep.ts';
import { SYSTEM_TIMERS, type Timers } from '../util/timers.ts';
import { bootstrapGate, type Gate } from './core/bootstrap-gate.ts';
import { DEFAULT_TUNABLES } from './core/state.ts';
import type { AgreementRuntime } from './runtime.ts';

export interface LinkOptions {
  runtime: AgreementRuntime;
  /** This node's identity (Talos's node identity): the value proposed and every ballot's proposer. */
  self: NodeIdentity;
  log: Logger;
  reissueDelayMs: number;
  /** How long the gate waits for the outcome before the runner's next round, ms. */
  outcomeWaitMs: number;
  /** How soon the runner comes back after a "wait" verdict, ms. */
  retryMs: number;
  /** Node identity → the address its peers reach it at; the transport reads it. */
  addresses: Map<NodeIdentity, string>;
  /** Monotonic ms. */
  now: () => number;
  /** What the gate's polling waits on; the runtime's timers by default (the simulation's virtual queue). */
  timers?: Timers;
  /** This boot (the kernel's boot_id, read at start; a process never outlives its boot); undefined if unread. */
  bootId?: string;
}

/** How often the gate looks for the outcome of its proposal while it waits, ms. */
const OUTCOME_POLL_MS = 100;

export class RunnerAgreement implements AgreementHooks {
  private readonly startedAt: number;
  private lastIssuedAt: number | undefined;
  private lastIssuedBeforeCall: number | undefined;
  private issuedBeforeCall = false;
  private lastNote = '';

  constructor(private readonly o: LinkOptions) {
    this.startedAt = o.now();
  }

  chosen(): NodeIdentity | undefined {
    return this.o.runtime.chosen;
  }

  observe(observation: Observation, controlPlanesSeen: number): void {
    this.feed(observation.controlPlanes, false, controlPlanesSeen);
    const chosen = this.o.runtime.chosen;
    const error = this.o.runtime.quorumError;
    // Every node says who was chosen, since when, and the recovery; once per change, not per round.
    if (chosen !== undefined && chosen !== this.o.self) {
      const g = this.verdictOf(true, true, false);
      this.note(`chosen|${chosen}`, () => this.o.log.info({ event: 'agreement-chosen', chosen, since: this.o.runtime.chosenAtMs }, g.message));
    } else if (error !== undefined) {
      this.note(`error|${error}`, () => this.o.log.error({ event: 'agreement-quorum-error' }, `never bootstrapping: ${error}`));
    }
  }

  readonly gate = async (input: BootstrapGateInput): Promise<BootstrapGateVerdict> => {
    this.feed(input.controlPlanes, true, input.controlPlanes.length);
    const until = this.o.now() + this.o.outcomeWaitMs;
    while (this.o.runtime.chosen === undefined && this.o.runtime.quorumError === undefined && this.o.now() < until) {
      await sleep(OUTCOME_POLL_MS, input.signal, this.o.timers ?? SYSTEM_TIMERS);
      this.o.runtime.tick();
    }
    // The runner calls the gate only with positive evidence from every control plane, this one included.
    const ownDataDirEmpty = input.self.etcd.dataDir.kind === 'empty' ? true : input.self.etcd.dataDir.kind === 'has-data' ? false : undefined;
    const service = input.self.etcd.service;
    const ownEtcdRunning = service.kind === 'running' ? true : service.kind === 'not-running' ? false : undefined;
    const own = { etcdFailed: service.kind === 'not-running' && service.fact.state === 'Failed' };
    const g = this.verdictOf(ownDataDirEmpty, ownEtcdRunning === false ? false : undefined, true, own);
    if (g.kind === 'call') {
      this.o.log.info({ event: 'agreement-call', reissue: g.reissue }, g.message);
      return { kind: 'proceed' };
    }
    if (g.reason === 'other-chosen') return { kind: 'other-chosen', chosen: this.o.runtime.chosen as string, message: g.message };
    const retryInMs = g.reason === 'reissue-delay' ? Math.max(this.o.retryMs, this.reissueLeftMs()) : this.o.retryMs;
    return { kind: 'wait', message: g.message, retryInMs };
  };

  bootstrapCalling(): void {
    this.issuedBeforeCall = this.o.runtime.bootstrapIssued;
    this.lastIssuedBeforeCall = this.lastIssuedAt;
    this.lastIssuedAt = this.o.now();
    this.o.runtime.setBootstrapIssued(true);
  }

  bootstrapAccepted(): void {
    if (this.o.bootId === undefined) return;
    try {
      this.o.runtime.setBootstrapAccepted(this.o.bootId);
    } catch (e) {
      // Not recorded: a restarted daemon then falls back to the re-issue delay alone, as before the record.
      this.o.log.warn({ event: 'agreement-persist-failed', error: String(e) }, `could not record that Talos accepted the Bootstrap: ${String(e)}`);
    }
  }

  bootstrapRefused(): void {
    // Nothing was accepted: the call does not count towards the re-issue delay.
    this.lastIssuedAt = this.lastIssuedBeforeCall;
    if (!this.issuedBeforeCall) this.o.runtime.setBootstrapIssued(false);
  }

  private reissueLeftMs(): number {
    const from = this.lastIssuedAt ?? this.startedAt;
    return Math.max(0, this.o.reissueDelayMs - (this.o.now() - from));
  }

  private feed(controlPlanes: Observation['controlPlanes'], leads: boolean, seen: number): void {
    for (const c of controlPlanes) this.o.addresses.set(c.identity, c.address);
    const verified = controlPlanes.map((c) => c.identity);
    this.o.runtime.view({ verified, leads, seen: Math.max(seen, verified.length) });
    // Timeouts and backoffs are checked at least once per round.
    this.o.runtime.tick();
  }

  private verdictOf(ownDataDirEmpty: boolean | undefined, ownEtcdRunning: boolean | undefined, positive: boolean, own?: { etcdFailed: boolean }): Gate {
    return bootstrapGate({
      self: this.o.self,
      chosen: this.o.runtime.chosen,
      chosenAtMs: this.o.runtime.chosenAtMs,
      quorumError: this.o.runtime.quorumError,
      evidence: positive ? 'not-bootstrapped' : 'unknown',
      ownDataDirEmpty,
      ownEtcdRunning,
      lastIssuedAt: this.lastIssuedAt,
      issuedBefore: this.o.runtime.bootstrapIssued,
      ...(own ? { ownEtcdFailed: own.etcdFailed } : {}),
      ...(this.o.bootId !== undefined ? { bootId: this.o.bootId } : {}),
      ...(this.o.runtime.acceptedBootId !== undefined ? { acceptedBootId: this.o.runtime.acceptedBootId } : {}),
      startedAt: this.startedAt,
      now: this.o.now(),
      reissueDelayMs: this.o.reissueDelayMs,
    });
  }

  private note(key: string, write: () => void): void {
    if (key === this.lastNote) return;
    this.lastNote = key;
    write();
  }
}

/**
 * The link as `autobootstrap run` wires it (src/agreement/daemon-setup.ts; the simulation wires the same):
 * the gate waits up to three phase timeouts for its proposal's outcome, and a "wait" verdict brings the runner
 * back after the follower check interval.
 */
export function runnerAgreementFor(o: Omit<LinkOptions, 'reissueDelayMs' | 'outcomeWaitMs' | 'retryMs'> & { config: Pick<Config, 'reissueDelayMs' | 'followerCheckIntervalMs'> }): RunnerAgreement {
  const { config, ...rest } = o;
  return new RunnerAgreement({ ...rest, reissueDelayMs: config.reissueDelayMs, outcomeWaitMs: 3 * DEFAULT_TUNABLES.phaseTimeoutMs, retryMs: config.followerCheckIntervalMs });
}
