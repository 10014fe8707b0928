// The daemon with resource accounting, for make soak only (compiled apart, never shipped): every JS timer
// the process creates is counted while it is live (setTimeout until it fires or is cleared, setInterval
// until cleared), and every `AB_SOAK_STATS_MS` a JSON line with the count and the heap goes to stderr.
// Everything else is the real entry point, src/main.ts.
type TimerFn = (handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => unknown;
const live = new Set<unknown>();
const realSetTimeout = globalThis.setTimeout as unknown as TimerFn;
const realSetInterval = globalThis.setInterval as unknown as TimerFn;
const realClearTimeout = globalThis.clearTimeout as (t: unknown) => void;
const realClearInterval = globalThis.clearInterval as (t: unknown) => void;

(globalThis as Record<string, unknown>).setTimeout = (handler: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const t: unknown = realSetTimeout((...a: unknown[]) => {
    live.delete(t);
    handler(...a);
  }, ms, ...args);
  live.add(t);
  return t;
};
(globalThis as Record<string, unknown>).setInterval = (handler: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const t = realSetInterval(handler, ms, ...args);
  live.add(t);
  return t;
};
(globalThis as Record<string, unknown>).clearTimeout = (t: unknown) => {
  live.delete(t);
  realClearTimeout(t);
};
(globalThis as Record<string, unknown>).clearInterval = (t: unknown) => {
  live.delete(t);
  realClearInterval(t);
};

const every = Number(process.env.AB_SOAK_STATS_MS ?? 2_000);
const stats = realSetInterval(() => {
  const m = process.memoryUsage();
  process.stderr.write(`${JSON.stringify({ soak: 'stats', liveTimers: live.size, heapUsed: m.heapUsed, rss: m.rss })}\n`);
}, every) as { unref?: () => void };
stats.unref?.();
// AB_SOAK_GC_MS: a full collection at this period, to tell garbage not yet collected from memory in use.
const gcEvery = Number(process.env.AB_SOAK_GC_MS ?? 0);
if (gcEvery > 0) (realSetInterval(() => Bun.gc(true), gcEvery) as { unref?: () => void }).unref?.();

await import('../../src/main.ts');

export {};
