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

/** The promise's value, or the wakeup's reason if it rings first. A ring is never lost: either it wins here or stays kept. */
export async function raceWakeup<T>(promise: Promise<T>, wakeup: Wakeup, signal: AbortSignal): Promise<Raced<T>> {
  const local = new AbortController();
  const ring = wakeup
    .sleep(2 ** 31 - 1, AbortSignal.any([signal, local.signal]))
    .then((reason): Raced<T> => ({ kind: 'woken', reason: reason ?? 'wakeup' }))
    .catch((e: unknown): Promise<Raced<T>> => (signal.aborted ? Promise.reject(e) : new Promise<Raced<T>>(() => undefined)));
  try {
    return await Promise.race([promise.then((value): Raced<T> => ({ kind: 'value', value })), ring]);
  } finally {
    local.abort();
  }
}
