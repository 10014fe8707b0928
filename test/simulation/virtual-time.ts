// Simulated time for the deterministic simulation: one queue of timed callbacks for the whole world, and per
// node a drifting monotonic clock and the Timers (src/util/timers.ts) the real runner and agreement wait on.
// Nothing here reads the machine's clock; `run` in world.ts advances `now` from one callback to the next.
import type { MonotonicClock } from '../../src/model/clock.ts';
import type { TimerHandle, Timers } from '../../src/util/timers.ts';

interface Entry {
  at: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/** A min-heap of callbacks by (time, insertion order): equal times run in the order they were scheduled. */
export class VirtualTime {
  /** Global simulated time, ms. */
  now = 0;
  private seq = 0;
  private readonly heap: Entry[] = [];

  /** Runs `run` at global time `at` (never before now). */
  at(at: number, run: () => void): Entry {
    const e: Entry = { at: Math.max(at, this.now), seq: this.seq++, run, cancelled: false };
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(e, h[p] as Entry)) break;
      h[i] = h[p] as Entry;
      i = p;
    }
    h[i] = e;
    return e;
  }

  /** Runs `run` `delayMs` of global time from now. */
  after(delayMs: number, run: () => void): Entry {
    return this.at(this.now + delayMs, run);
  }

  cancel(e: Entry): void {
    e.cancelled = true;
  }

  /** The next live entry, removed from the queue; undefined when none is left. */
  next(): Entry | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0] as Entry;
      const last = h.pop() as Entry;
      if (h.length > 0) {
        // Sift `last` down from the root.
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          const r = l + 1;
          let m = i;
          let least = last;
          if (l < h.length && before(h[l] as Entry, least)) (m = l), (least = h[l] as Entry);
          if (r < h.length && before(h[r] as Entry, least)) (m = r), (least = h[r] as Entry);
          if (m === i) break;
          h[i] = least;
          i = m;
        }
        h[i] = last;
      }
      if (!top.cancelled) return top;
    }
    return undefined;
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/**
 * A node's clock: runs at `rate` times global time (clock-rate drift, 0.9–1.1) from an arbitrary origin, as
 * a monotonic clock may; the daemon only ever subtracts two of its readings.
 */
export class NodeClock implements MonotonicClock {
  constructor(
    private readonly vt: VirtualTime,
    readonly rate: number,
    private readonly origin: number,
  ) {}

  now(): number {
    return this.origin + this.vt.now * this.rate;
  }

  /** Global ms that pass while this clock advances `localMs`. */
  toGlobal(localMs: number): number {
    return Math.max(0, localMs) / this.rate;
  }
}

/**
 * The Timers one daemon instance waits on: local delays on its node's drifting clock. A callback of an
 * instance that has died (crash, reboot) never runs, so its promises never settle, as in a killed process.
 */
export function daemonTimers(vt: VirtualTime, clock: NodeClock, alive: () => boolean): Timers {
  return {
    setTimeout: (callback, ms): TimerHandle =>
      vt.after(clock.toGlobal(ms), () => {
        if (alive()) callback();
      }),
    clearTimeout: (handle) => vt.cancel(handle as Entry),
  };
}
