// Runs an async function over a (possibly huge, lazily produced) sequence with at most `limit` in flight.
// Items are pulled from the iterator only when a slot frees, so a /16 never exists as an array.
export async function forEachBounded<T>(items: Iterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]();
  let failed: unknown;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (failed !== undefined) return;
      const next = iterator.next();
      if (next.done) return;
      try {
        await fn(next.value);
      } catch (e) {
        failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, worker));
  if (failed !== undefined) throw failed;
}

/** Maps `items` with at most `limit` calls in flight, results in input order. `fn` must not throw. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}
