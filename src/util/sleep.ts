// Sleeps that end early when the daemon is asked to stop. The operator commands pass no signal: they
// stop with the process.
import { SYSTEM_TIMERS, type Timers } from './timers.ts';

export class Stopped extends Error {
  constructor() {
    super('stopped');
  }
}

/** Resolves after `ms` (on `timers`, the runtime's by default); rejects with Stopped once `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal, timers: Timers = SYSTEM_TIMERS): Promise<void> {
  if (!signal) return new Promise((resolve) => timers.setTimeout(resolve, ms));
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      timers.clearTimeout(timer);
      reject(new Stopped());
    };
    const timer = timers.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
