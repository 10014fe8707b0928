// A doorbell for the runner's waits: a source that learns something new (a member appeared) rings it, and
// the runner's current or next interruptible sleep ends at once. A ring while nobody sleeps is kept, so
// news that arrives during a round is not lost: the sleep after that round returns immediately.
import { Stopped } from './sleep.ts';
import { SYSTEM_TIMERS, type Timers } from './timers.ts';

export type WakeReason = string;

export class Wakeup {
  private pending: WakeReason | undefined;
  private waiter: ((reason: WakeReason) => void) | undefined;

  /** `timers`: what the sleeps wait on; the runtime's by default, a virtual queue in the simulation. */
  constructor(private readonly timers: Timers = SYSTEM_TIMERS) {}

  ring(reason: WakeReason): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w(reason);
      return;
    }
    this.pending ??= reason;
  }

  /** Takes a kept ring, if any, without waiting. */
  take(): WakeReason | undefined {
    const r = this.pending;
    this.pending = undefined;
    return r;
  }

  /**
   * Sleeps up to `ms`; resolves with the ring's reason if rung first (or already pending), `undefined`
   * after the full time. Rejects with Stopped when the signal aborts.
   */
  sleep(ms: number, signal: AbortSignal): Promise<WakeReason | undefined> {
    if (signal.aborted) return Promise.reject(new Stopped());
    const kept = this.take();
    if (kept !== undefined) return Promise.resolve(kept);
    return new Promise((resolve, reject) => {
      const done = () => {
        this.timers.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiter = undefined;
      };
      const onAbort = () => {
        done();
        reject(new Stopped());
      };
      const timer = this.timers.setTimeout(() => {
        done();
        resolve(undefined);
      }, ms);
      this.waiter = (reason) => {
        done();
        resolve(reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
