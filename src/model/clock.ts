// Time as the daemon measures intervals: a monotonic clock in milliseconds, injected so that tests and
// simulations drive it. The wall clock can be stepped (Talos applies NTP offsets over 400 ms as jumps);
// this one cannot.
export interface MonotonicClock {
  /** Milliseconds since an arbitrary origin; never goes back. */
  now(): number;
}

export const SYSTEM_CLOCK: MonotonicClock = { now: () => performance.now() };
