// Jittered exponential backoff. The random source is a parameter so schedules are reproducible in tests.

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  factor: number;
}

/**
 * Delay before retry number `attempt` (0-based): the exponential step capped at maxMs, then scaled into
 * [50%, 100%] of itself so that nodes retrying together drift apart ("equal jitter").
 */
export function backoffDelay(policy: BackoffPolicy, attempt: number, random: () => number): number {
  const step = Math.min(policy.maxMs, policy.initialMs * policy.factor ** Math.max(0, attempt));
  return Math.round(step / 2 + (step / 2) * random());
}

/** A small seeded generator (mulberry32) for tests and simulations. */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
