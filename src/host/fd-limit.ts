// The scan's concurrency must fit the process's open-file limit: a connect that fails with EMFILE would
// read as "nothing there" and silently miss a peer. Bun raises the soft limit to the hard one at start;
// what is left is read from /proc/self/limits.
import { readFileSync } from 'node:fs';

/** Soft "Max open files" from a /proc/<pid>/limits text; undefined when absent or unlimited. */
export function openFilesLimit(limitsText: string): number | undefined {
  const line = limitsText.split('\n').find((l) => l.startsWith('Max open files'));
  const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
  if (soft === undefined || soft === 'unlimited') return undefined;
  const n = Number(soft);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** File descriptors kept free for everything that is not a probe (logs, gRPC channels, the Watch). */
const RESERVED_FDS = 256;

/**
 * The largest concurrency the limit allows: each slot may hold a probe socket and, for the named targets'
 * pool running beside the scan's, another; so half of what is left after the reserve.
 */
export function concurrencyWithin(configured: number, limit: number | undefined): number {
  if (limit === undefined) return configured;
  return Math.max(1, Math.min(configured, Math.floor((limit - RESERVED_FDS) / 2)));
}

export function readOpenFilesLimit(path = '/proc/self/limits'): number | undefined {
  try {
    return openFilesLimit(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}
