// autobootstrap apply: each node's config over insecure TLS with mode AUTO, retried with backoff, then
// each node seen leaving maintenance. Every node is reported; one failure never stops the others.
import { EXIT, type ExitCode } from '../../exit-codes.ts';
import { formatDuration } from '../../util/duration.ts';
import { applyIo } from '../nodes/apply-io.ts';
import { applyAll, type NodeApplyResult } from '../rules/apply-node.ts';
import type { TrustedCa } from '../nodes/identify-node.ts';
import { osCaOf, readNodeConfig } from '../inputs/node-config.ts';
import { COMMON_FLAGS, RETRY_FLAGS, durationFlag, intFlag, parseCommand, resolveInputs, retryPolicy, type InputContext } from '../inputs/options.ts';
import { Progress, json, table, type Io } from '../render/report.ts';
import { retrySchedule } from '../rules/retry.ts';
import { UsageError } from '../usage-error.ts';

export const APPLY_FLAGS = [
  ...COMMON_FLAGS,
  ...RETRY_FLAGS,
  { name: 'parallel', kind: 'string' as const, help: 'nodes configured at once (1 = one after another)', default: '1' },
  { name: 'wait-timeout', kind: 'string' as const, help: 'how long to wait for each node to leave maintenance', default: '10m' },
];

const CALL_DEADLINE_MS = 30_000;
const PROBE_DEADLINE_MS = 3_000;
const POLL_MS = 500;

function render(results: NodeApplyResult[]): string {
  let text = table(
    ['NODE', 'ADDRESS', 'RESULT', 'ATTEMPTS'],
    results.map((r) => [r.name, r.address, r.ok ? (r.replyLost ? 'configured (reply lost)' : 'configured') : 'FAILED', String(r.attempts.length)]),
  );
  for (const r of results) {
    const retried = r.attempts.filter((a) => !a.ok && a.retryInMs !== undefined);
    if (r.ok && retried.length > 0) {
      text += `\n${r.name} (${r.address}) succeeded after ${retried.length} retr${retried.length === 1 ? 'y' : 'ies'}: ${retried.map((a) => `attempt ${a.attempt} ${a.code}, waited ${formatDuration(a.retryInMs ?? 0)}`).join('; ')}\n`;
    }
    if (r.ok && r.replyLost) text += `\n${r.name} (${r.address}): accepted (reply lost): attempt ${r.attempts.length} failed, but the node came back with this config\n`;
    if (!r.ok) text += `\n${r.name} (${r.address}): ${r.reason}\n  fix: ${r.fix}\n`;
  }
  const failed = results.filter((r) => !r.ok);
  text += failed.length === 0 ? `\napplied: all ${results.length} node(s) configured and out of maintenance\n` : `\napply FAILED for ${failed.map((r) => `${r.name} (${r.address})`).join(', ')}; the other nodes were configured\n`;
  return text;
}

export async function runApply(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'>): Promise<ExitCode> {
  const { values, output } = parseCommand(args, APPLY_FLAGS);
  const policy = retryPolicy(values);
  const parallel = intFlag(values, 'parallel', 1, 1, 256);
  const waitTimeoutMs = durationFlag(values, 'wait-timeout', 10 * 60_000, 1);
  const { targets } = await resolveInputs(values, { ...ctx, needFiles: true });
  // Every config is read before any node is touched: a typo in one file stops the run, not half of it.
  const cas = new Map<string, TrustedCa[]>();
  const items = targets.map((target) => {
    const read = readNodeConfig(target.file as string);
    if (!read.ok) throw new UsageError(`${target.name} (${target.address}): ${read.problem}`);
    const ca = osCaOf(read.config);
    cas.set(target.address, ca ? [ca] : []);
    return { target, data: read.config.data };
  });
  const progress = new Progress(io, targets);
  progress.note(`applying to ${targets.length} node(s), ${parallel} at a time; retries ${policy.retries} (delays ${retrySchedule(policy).map(formatDuration).join(', ') || 'none'})`);
  const deps = applyIo({
    callDeadlineMs: CALL_DEADLINE_MS,
    probeDeadlineMs: PROBE_DEADLINE_MS,
    pollMs: POLL_MS,
    waitTimeoutMs,
    casFor: (t) => cas.get(t.address) ?? [],
    progress: (t, text) => progress.update(t.address, text),
  });
  const results = await applyAll(items, parallel, policy, deps);
  const ok = results.every((r) => r.ok);
  if (output === 'json') json(io, { command: 'apply', ok, policy: { ...policy, scheduleMs: retrySchedule(policy) }, parallel, nodes: results, failed: results.filter((r) => !r.ok).map((r) => r.address) });
  else io.out(render(results));
  return ok ? EXIT.OK : EXIT.FAILURE;
}
