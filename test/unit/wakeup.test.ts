// The runner's doorbell: a ring ends a sleep at once, a ring during no sleep is kept for the next one,
// and a stop request still ends everything.
import { describe, expect, test } from 'bun:test';
import { Stopped } from '../../src/util/sleep.ts';
import { Wakeup } from '../../src/util/wakeup.ts';

describe('wakeup', () => {
  test('a ring ends a long sleep with its reason', async () => {
    const w = new Wakeup();
    const slept = w.sleep(3_600_000, new AbortController().signal);
    w.ring('member 10.0.0.3');
    expect(await slept).toBe('member 10.0.0.3');
  });
  test('a ring while nobody sleeps is kept once: the next sleep returns it, the one after waits', async () => {
    const w = new Wakeup();
    w.ring('first');
    w.ring('second');
    expect(await w.sleep(3_600_000, new AbortController().signal)).toBe('first');
    expect(await w.sleep(1, new AbortController().signal)).toBeUndefined();
  });
  test('a sleep that runs out resolves undefined and leaves no waiter behind', async () => {
    const w = new Wakeup();
    expect(await w.sleep(1, new AbortController().signal)).toBeUndefined();
    w.ring('later');
    expect(w.take()).toBe('later');
  });
  test('abort rejects with Stopped, and the ring after it is kept', async () => {
    const w = new Wakeup();
    const stop = new AbortController();
    const slept = w.sleep(3_600_000, stop.signal);
    stop.abort();
    await expect(slept).rejects.toBeInstanceOf(Stopped);
    w.ring('after');
    expect(w.take()).toBe('after');
  });
});
