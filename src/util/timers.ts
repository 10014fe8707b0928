// Timers as the daemon waits on them, injected like the clock (src/model/clock.ts): the daemon uses the
// runtime's, the deterministic simulation (test/simulation) a virtual queue it advances itself, so every
// sleep of the runner and the agreement runs on simulated time.
export type TimerHandle = unknown;

export interface Timers {
  /** Calls `callback` once, `ms` milliseconds (monotonic) from now; returns a handle for clearTimeout. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const SYSTEM_TIMERS: Timers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
