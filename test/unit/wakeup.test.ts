// The runner's doorbell: a ring ends a sleep at once, a ring during no sleep is kept for the next one,
// and a stop request still ends everything.
import { describe, expect, test } from 'bun:test';
import { Stopped } from '../../src/util/sleep.ts';
import { raceWakeup, unlessStopped } from '../../src/util/race.ts';
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

describe('racing a slow answer against the doorbell', () => {
  test('a ring first wins; the answer first wins and a later ring is kept, not swallowed', async () => {
    const w = new Wakeup();
    const signal = new AbortController().signal;
    const never = new Promise<string>(() => undefined);
    const raced = raceWakeup(never, w, signal);
    w.ring('member 10.0.0.4');
    expect(await raced).toEqual({ kind: 'woken', reason: 'member 10.0.0.4' });

    expect(await raceWakeup(Promise.resolve('answer'), w, signal)).toEqual({ kind: 'value', value: 'answer' });
    w.ring('later');
    expect(w.take()).toBe('later');
  });
  test('the answer wins but the bell rang before the race settled: the ring is kept for the next wait', async () => {
    const w = new Wakeup();
    let answer!: (v: string) => void;
    const raced = raceWakeup(new Promise<string>((r) => (answer = r)), w, new AbortController().signal);
    await Bun.sleep(0);
    // Both in the same turn: the answer's callback runs first, so it wins; the ring must not vanish.
    answer('answer');
    w.ring('member 10.0.0.5');
    expect(await raced).toEqual({ kind: 'value', value: 'answer' });
    expect(w.take()).toBe('member 10.0.0.5');
  });

  test('a stop ends the wait for a whole round', async () => {
    const stop = new AbortController();
    const waiting = unlessStopped(new Promise<void>(() => undefined), stop.signal);
    stop.abort();
    await expect(waiting).rejects.toBeInstanceOf(Stopped);
  });
});
