// The simulated network between control planes: directed link blocks (asymmetric partitions), and for the
// agreement's messages loss, duplication and delays of up to a few seconds (so reordering), until the heal.
// After the heal every link carries everything within 50 ms.
import { DEFAULT_TUNABLES } from '../../src/agreement/core/state.ts';
import type { Message } from '../../src/agreement/core/messages.ts';
import type { SendFn } from '../../src/agreement/runtime.ts';
import type { Rng } from './random.ts';
import type { DaemonInstance, SimNode } from './sim-node.ts';
import type { VirtualTime } from './virtual-time.ts';

/** The share of agreement messages held back 10–60 s, beyond the phase timeout, while the faults last. */
const LATE_SHARE = 0.02;

export class Network {
  /** Blocked directed links, as "cp1>cp2". */
  blocked = new Set<string>();
  healed = false;

  constructor(
    private readonly rng: Rng,
    readonly loss: number,
    readonly duplication: number,
    readonly maxDelayMs: number,
  ) {}

  /** Packets from `from` reach `to` now. */
  link(from: SimNode, to: SimNode): boolean {
    return from === to || !this.blocked.has(`${from.id}>${to.id}`);
  }

  /** A call from `from` to `to`'s apid gets its answer: `to` is up and both directions carry. */
  reaches(from: SimNode, to: SimNode): boolean {
    return to.up && this.link(from, to) && this.link(to, from);
  }

  /** One hop's delay, global ms: now and then, until the heal, a message held 10–60 s (a stale one arriving late). */
  delay(): number {
    if (!this.healed && this.rng.chance(LATE_SHARE)) return this.rng.int(10_000, 60_000);
    return this.rng.int(1, this.healed ? 50 : this.maxDelayMs);
  }

  /** One apid answer's delay within a probe's timeout (global ms). */
  answerDelay(timeoutMs: number): number {
    return this.rng.int(1, Math.max(1, Math.floor((this.healed ? 0.1 : 0.8) * timeoutMs)));
  }

  lost(): boolean {
    return !this.healed && this.rng.chance(this.loss);
  }

  copies(): number {
    return !this.healed && this.rng.chance(this.duplication) ? 2 : 1;
  }

  /**
   * The agreement transport (src/agreement/transport/client.ts as src/agreement/daemon-setup.ts uses it): one
   * message to a peer's acceptor, its replies back, a deadline of the phase timeout. A closed agreement port
   * (no daemon running there) refuses at once; a blocked link or a lost message ends at the deadline.
   */
  sender(vt: VirtualTime, nodes: readonly SimNode[], from: SimNode, self: DaemonInstance): SendFn {
    return (to: string, message: Message) =>
      new Promise<Message[]>((resolve, reject) => {
        let settled = false;
        // A dead daemon's calls never settle: the process that made them is gone.
        const settle = (f: () => void) => {
          if (settled || !self.alive) return;
          settled = true;
          f();
        };
        vt.after(from.clock.toGlobal(DEFAULT_TUNABLES.phaseTimeoutMs), () => settle(() => reject(new Error('DEADLINE_EXCEEDED: no answer'))));
        const target = nodes.find((n) => n.id === to);
        if (!target) return settle(() => reject(new Error(`no address known for node id ${to}`)));
        for (let c = this.copies(); c > 0; c--) {
          if (this.lost()) continue;
          vt.after(this.delay(), () => {
            if (!target.up || !this.link(from, target)) return;
            const acceptor = target.daemon;
            if (!acceptor?.alive || !acceptor.runtime) {
              if (this.link(target, from)) vt.after(this.delay(), () => settle(() => reject(new Error(`UNAVAILABLE: connect ECONNREFUSED ${target.address}`))));
              return;
            }
            let replies: Message[];
            try {
              replies = acceptor.runtime.receive(message);
            } catch {
              return;
            }
            if (this.lost() || !this.link(target, from)) return;
            vt.after(this.delay(), () => settle(() => resolve(replies)));
          });
        }
      });
  }
}
