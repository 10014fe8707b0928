// When to try a busy mount again. Pure: the delays come from the shared jittered backoff and a budget,
// so a test can list the whole schedule and the daemon never retries forever (Talos restarts it anyway).
import { backoffDelay, type BackoffPolicy } from '../../util/backoff.ts';

export const MOUNT_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 4_000, factor: 2 };

/**
 * The delay before retry number `retry` (0-based) after `waitedMs` of earlier delays, or undefined when
 * that retry would go past `budgetMs`. The last delay is shortened to fit, so the budget is used whole.
 */
export function nextMountDelay(retry: number, waitedMs: number, budgetMs: number, random: () => number, policy = MOUNT_BACKOFF): number | undefined {
  const left = budgetMs - waitedMs;
  if (left <= 0) return undefined;
  return Math.min(left, backoffDelay(policy, retry, random));
}
