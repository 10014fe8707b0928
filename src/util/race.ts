// Waits that end early: on a stop request, or when the doorbell rings first.
import { Stopped } from './sleep.ts';
import type { Wakeup } from './wakeup.ts';

/** The promise's value, or Stopped as soon as a stop is requested (a /16 scan may take minutes to end). */
export function unlessStopped<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Stopped());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Stopped());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => (signal.removeEventListener('abort', onAbort), resolve(v)),
      (e: unknown) => (signal.removeEventListener('abort', onAbort), reject(e)),
    );
  });
}

export type Raced<T> = { kind: 'value'; value: T } | { kind: 'woken'; reason: string };

/**
 * The promise's value, or the wakeup's reason if it rings first. A ring is never lost: either it wins here,
 * or, when the value won but the bell rang before this wait was withdrawn, the ring is kept for the next wait.
 */
export async function raceWakeup<T>(promise: Promise<T>, wakeup: Wakeup, signal: AbortSignal): Promise<Raced<T>> {
  const local = new AbortController();
  const sleeping = wakeup.sleep(2 ** 31 - 1, AbortSignal.any([signal, local.signal]));
  const ring = sleeping.then(
    (reason): Raced<T> => ({ kind: 'woken', reason: reason ?? 'wakeup' }),
    (e: unknown): Promise<Raced<T>> => (signal.aborted ? Promise.reject(e) : new Promise<Raced<T>>(() => undefined)),
  );
  try {
    const raced = await Promise.race([promise.then((value): Raced<T> => ({ kind: 'value', value })), ring]);
    if (raced.kind === 'value') {
      // Withdraw the wait: a sleep not yet rung rejects at once; one that was rung keeps its reason.
      local.abort();
      const rungMeanwhile = await sleeping.then(
        (reason) => reason,
        () => undefined,
      );
      if (rungMeanwhile !== undefined) wakeup.ring(rungMeanwhile);
    }
    return raced;
  } finally {
    local.abort();
  }
}
