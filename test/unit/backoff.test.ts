import { describe, expect, test } from 'bun:test';
import { backoffDelay, seededRandom } from '../../src/bootstrap/core/backoff.ts';

describe('backoffDelay', () => {
  const policy = { initialMs: 1000, maxMs: 120_000, factor: 2 };
  test('grows exponentially within [50%, 100%] of each step', () => {
    const rnd = seededRandom(7);
    for (let attempt = 0; attempt < 6; attempt++) {
      const step = 1000 * 2 ** attempt;
      const d = backoffDelay(policy, attempt, rnd);
      expect(d).toBeGreaterThanOrEqual(step / 2);
      expect(d).toBeLessThanOrEqual(step);
    }
  });
  test('is capped at the maximum however many attempts', () => {
    expect(backoffDelay(policy, 50, () => 0.999999)).toBeLessThanOrEqual(120_000);
    expect(backoffDelay(policy, 50, () => 0)).toBe(60_000);
  });
  test('the same seed gives the same schedule; another seed another one', () => {
    const schedule = (seed: number) => {
      const r = seededRandom(seed);
      return [0, 1, 2, 3, 4].map((a) => backoffDelay(policy, a, r));
    };
    expect(schedule(42)).toEqual(schedule(42));
    expect(schedule(42)).not.toEqual(schedule(43));
  });
});
