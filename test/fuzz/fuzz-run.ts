// Shared settings of the property-based fuzz tests (fast-check). Every target runs FUZZ_RUNS cases
// (default 300: the few hundred `make test` runs; `make fuzz` sets 10000). A failure reports the seed and
// the shrunk counterexample's path, and the one command that replays exactly that case:
//   FUZZ_SEED=<seed> FUZZ_PATH=<path> node_modules/.bin/bun test test/fuzz/<file> -t '<target>'
import fc from 'fast-check';

export const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
/** A case slower than this is a failure: parsers must stay bounded on hostile input (generous for a loaded CI machine). */
export const CASE_BUDGET_MS = Number(process.env.FUZZ_CASE_BUDGET_MS ?? 3_000);

function parameters<T>(): fc.Parameters<T> {
  const seed = process.env.FUZZ_SEED;
  const path = process.env.FUZZ_PATH;
  return {
    numRuns: seed && path ? 1 : RUNS,
    ...(seed ? { seed: Number(seed) } : {}),
    ...(path ? { path } : {}),
    // Shrinking a hostile multi-megabyte input can take long; a bounded number of shrink steps is enough.
    endOnFailure: false,
    interruptAfterTimeLimit: Number(process.env.FUZZ_TIME_LIMIT_MS ?? 15 * 60_000),
    markInterruptAsFailure: false,
  };
}

/** Runs the property; on failure throws fast-check's report plus the replay command. */
export function check<T>(file: string, target: string, property: fc.IPropertyWithHooks<T> | fc.IProperty<T>): void {
  const details = fc.check(property, parameters<T>()) as fc.RunDetails<T>;
  if (details.failed) {
    const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} node_modules/.bin/bun test test/fuzz/${file} -t '${target}'`;
    throw new Error(`${fc.defaultReportMessage(details)}\nreplay: ${replay}`);
  }
}

export async function checkAsync<T>(file: string, target: string, property: fc.IAsyncPropertyWithHooks<T> | fc.IAsyncProperty<T>): Promise<void> {
  const details = (await fc.check(property, parameters<T>())) as fc.RunDetails<T>;
  if (details.failed) {
    const replay = `FUZZ_SEED=${details.seed} FUZZ_PATH=${details.counterexamplePath ?? ''} node_modules/.bin/bun test test/fuzz/${file} -t '${target}'`;
    throw new Error(`${fc.defaultReportMessage(details)}\nreplay: ${replay}`);
  }
}

/**
 * Calls fn; returns its result or the error it threw, and fails when it took longer than the budget.
 * `expected` lists the error classes that count as a clear error; anything else is rethrown as a failure.
 */
export function outcome<R>(fn: () => R, expected: (new (...args: never[]) => Error)[]): { ok: true; value: R } | { ok: false; error: Error } {
  const t0 = performance.now();
  let result: { ok: true; value: R } | { ok: false; error: Error };
  try {
    result = { ok: true, value: fn() };
  } catch (e) {
    if (!expected.some((cls) => e instanceof cls)) {
      throw new Error(`unexpected ${e instanceof Error ? e.constructor.name : typeof e}: ${e instanceof Error ? e.message : String(e)}`);
    }
    result = { ok: false, error: e as Error };
  }
  const ms = performance.now() - t0;
  if (ms > CASE_BUDGET_MS) throw new Error(`one case took ${ms.toFixed(0)} ms (budget ${CASE_BUDGET_MS} ms)`);
  return result;
}

/** Bounded memory: the process stays below this many MiB of RSS after a target. */
export const RSS_BUDGET_MIB = 1536;
export function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

/**
 * YAML with anchors and aliases that expand exponentially ("billion laughs"): `depth` levels, each level a
 * list of `fanout` aliases of the previous one.
 */
export function billionLaughs(depth: number, fanout: number, key = 'lol'): string {
  const lines = [`${key}0: &${key}0 "lol"`];
  for (let i = 1; i <= depth; i++) lines.push(`${key}${i}: &${key}${i} [${Array.from({ length: fanout }, () => `*${key}${i - 1}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}
