// The agreement's shell around the pure core: feeds it views, ticks and peers' messages with the time and a
// random number, persists what it returns BEFORE sending anything or acting, and sends the rest through a
// transport. Every step runs synchronously (the state file is written with synchronous fsyncs), so two
// inputs never interleave.
import type { Logger } from '../log.ts';
import type { Message } from './core/messages.ts';
import type { AgreementParams } from './core/params.ts';
import { EMPTY_DURABLE, initialState, type AgreementState, type DurableState, type Tunables, type View } from './core/state.ts';
import { step, type Faults, type Input, type Outbound } from './core/step.ts';
import { statusOf, type AgreementStatus } from './transport/status.ts';

export interface DurableStore {
  /** Undefined on a first start; throws AcceptorStateError when the state once existed and is lost. */
  load(): DurableState | undefined;
  save(durable: DurableState): void;
}

/** Sends one message to a peer (by node identity); resolves to that peer's replies. */
export type SendFn = (to: string, message: Message) => Promise<Message[]>;

export interface RuntimeOptions {
  self: string;
  params: AgreementParams;
  store: DurableStore;
  log: Logger;
  send: SendFn;
  /** Monotonic ms. */
  now: () => number;
  wallNow?: () => number;
  random?: () => number;
  tunables?: Tunables;
  /** How a peer is named in the log, e.g. "10.0.0.5 (node id …)"; the identity itself by default. */
  peerName?: (peer: string) => string;
  /** Deliberate protocol bugs (core/step.ts Faults); only the simulation's broken variants set them. */
  faults?: Faults;
}

export class AgreementRuntime {
  private state: AgreementState;
  /** Peers whose last delivery failed, with the reason (logged once per failure streak). */
  private readonly unreachable = new Map<string, string>();
  private onLearned: ((value: string) => void)[] = [];

  constructor(private readonly o: RuntimeOptions) {
    const durable = o.store.load() ?? EMPTY_DURABLE;
    this.state = initialState(o.self, o.params, durable, o.tunables);
    if (this.state.quorumError !== undefined) {
      o.log.error({ event: 'quorum-not-majority', quorum: o.params.quorum, controlPlanes: o.params.controlPlanes, seen: durable.maxSeen }, `${this.state.quorumError} (recorded in this node's agreement state)`);
    }
    if (durable.chosen !== undefined) {
      o.log.info({ event: 'chosen-known', chosen: durable.chosen, since: durable.chosenAtMs }, `${durable.chosen} is the chosen bootstrapper (from this node's agreement state)`);
    }
  }

  get chosen(): string | undefined {
    return this.state.durable.chosen;
  }
  get chosenAtMs(): number | undefined {
    return this.state.durable.chosenAtMs;
  }
  get quorumError(): string | undefined {
    return this.state.quorumError;
  }
  get bootstrapIssued(): boolean {
    return this.state.durable.bootstrapIssued;
  }

  status(): AgreementStatus {
    return statusOf(this.state);
  }

  /** Called with the chosen value when this node learns it. */
  whenLearned(f: (value: string) => void): void {
    this.onLearned.push(f);
  }

  view(view: View): void {
    this.apply({ kind: 'view', view });
  }

  tick(): void {
    this.apply({ kind: 'tick' });
  }

  /** A peer's message (from the server); returns the replies addressed to that peer. Throws if not persisted. */
  receive(message: Message): Message[] {
    return this.apply({ kind: 'message', message }, message.from);
  }

  /**
   * Records durably that this node called Bootstrap (it may have been accepted; the re-issue rule needs it
   * after a reboot), or that the call was refused. Throws if it cannot be saved (then do not call).
   */
  setBootstrapIssued(issued: boolean): void {
    if (this.state.durable.bootstrapIssued === issued) return;
    const durable = { ...this.state.durable, bootstrapIssued: issued };
    this.o.store.save(durable);
    this.state = { ...this.state, durable };
  }

  /** The boot (kernel boot_id) in which Talos last answered this node's Bootstrap with success. */
  get acceptedBootId(): string | undefined {
    return this.state.durable.acceptedBootId;
  }

  /**
   * Records durably that Talos answered this node's Bootstrap with success in the boot `bootId` (the kernel's
   * boot_id): it holds that Bootstrap until etcd starts, unless the node reboots. Throws if it cannot be saved.
   */
  setBootstrapAccepted(bootId: string): void {
    if (this.state.durable.acceptedBootId === bootId) return;
    const durable = { ...this.state.durable, acceptedBootId: bootId };
    this.o.store.save(durable);
    this.state = { ...this.state, durable };
  }

  private apply(input: Input, replyTo?: string): Message[] {
    const before = this.state;
    const r = step(before, input, { now: this.o.now(), wallNow: (this.o.wallNow ?? Date.now)(), random: (this.o.random ?? Math.random)() }, this.o.faults);
    if (r.persist) {
      try {
        this.o.store.save(r.persist);
      } catch (e) {
        // Nothing leaves and nothing is acted on: the state stays as it was on disk.
        this.state = before;
        this.o.log.error({ event: 'agreement-persist-failed', error: String(e) }, `agreement state could not be saved, so nothing was sent: ${String(e)}`);
        throw e;
      }
    }
    this.state = r.state;
    for (const a of r.act) {
      if (a.kind === 'log') this.o.log[a.level]({ event: a.event, ...a.fields }, a.message);
      else for (const f of this.onLearned) f(a.value);
    }
    const replies: Message[] = [];
    for (const s of r.send) {
      if (replyTo !== undefined && s.to === replyTo) replies.push(s.message);
      else this.dispatch(s);
    }
    return replies;
  }

  private name(peer: string): string {
    return this.o.peerName ? this.o.peerName(peer) : peer;
  }

  private dispatch(s: Outbound): void {
    this.o.send(s.to, s.message).then(
      (replies) => {
        if (this.unreachable.delete(s.to)) this.o.log.info({ event: 'agreement-peer-reachable', peer: s.to }, `agreement messages reach ${this.name(s.to)} again`);
        for (const reply of replies) {
          try {
            for (const more of this.receive(reply)) this.dispatch({ to: reply.from, message: more });
          } catch {
            // Logged by apply; the reply is dropped as if lost.
          }
        }
      },
      (e: unknown) => {
        const reason = e instanceof Error ? e.message : String(e);
        if (!this.unreachable.has(s.to)) {
          this.o.log.warn({ event: 'agreement-peer-unreachable', peer: s.to, reason }, `agreement messages do not reach ${this.name(s.to)}: ${reason}; is its agreement port open?`);
        }
        this.unreachable.set(s.to, reason);
      },
    );
  }
}
