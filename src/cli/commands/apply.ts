// autobootstrap apply: each node's config over insecure TLS with mode AUTO, retried with backoff, then
// each node seen leaving maintenance. Every node is reported; one failure never stops the others.
import { EXIT, type ExitCode } from '../../exit-codes.ts';
import { formatDuration } from '../../util/duration.ts';
import { applyIo } from '../nodes/apply-io.ts';
import { applyAll, type NodeApplyResult } from '../rules/apply-node.ts';
import type { TrustedCa } from '../nodes/identify-node.ts';
import { osCaOf, readNodeConfig } from '../inputs/node-config.ts';
import { MAINTENANCE_FLAGS, requireMaintenanceMode, RETRY_FLAGS, callTimeoutFlag, callTimeoutMs, durationFlag, intFlag, parseCommand, resolveInputs, retryPolicy, type InputContext } from '../inputs/options.ts';
import { emit } from '../render/output.ts';
import { Progress, table, type Io } from '../render/report.ts';
import { retrySchedule, type RetryPolicy } from '../rules/retry.ts';
import type { FlagValues } from '../inputs/flags.ts';
import { UsageError } from '../usage-error.ts';
import { APID_PORT } from '../nodes/connect.ts';
import { servedFingerprints } from '../nodes/fingerprint.ts';
import { describeConflict, groupSameNodes, resultPerAddress } from '../rules/same-node.ts';

/**
 * The least ApplyConfiguration is given (ms), whatever --call-timeout says: the node validates and writes
 * the config before it answers, and a deadline cut short there leaves the operator guessing whether it
 * was taken (apply then looks, but a timely answer is better).
 */
export const MIN_APPLY_CONFIGURATION_DEADLINE_MS = 30_000;

export const APPLY_FLAGS = [
  ...MAINTENANCE_FLAGS,
  ...RETRY_FLAGS,
  { name: 'parallel', kind: 'string' as const, help: 'nodes configured at once (1 = one after another)', default: '1' },
  { name: 'wait-timeout', kind: 'string' as const, help: 'how long to wait for each node to leave maintenance', default: '10m' },
  callTimeoutFlag(
    `deadline of each look at a node (TLS handshake, MachineStatus); ApplyConfiguration waits the longer of it and ${formatDuration(MIN_APPLY_CONFIGURATION_DEADLINE_MS)} (it validates and writes the config before it answers); raise it on a slow network`,
  ),
];

const POLL_MS = 500;

function render(results: NodeApplyResult[]): string {
  let text = table(
    ['NODE', 'ADDRESS', 'RESULT', 'ATTEMPTS'],
    results.map((r) => [r.name, r.address, r.sameNodeAs ? `same node as ${r.sameNodeAs}` : r.ok ? (r.replyLost ? 'configured (reply lost)' : 'configured') : 'FAILED', String(r.attempts.length)]),
  );
  for (const r of results) {
    const retried = r.attempts.filter((a) => !a.ok && a.retryInMs !== undefined);
    if (r.ok && retried.length > 0) {
      text += `\n${r.name} (${r.address}) succeeded after ${retried.length} retr${retried.length === 1 ? 'y' : 'ies'}: ${retried.map((a) => `attempt ${a.attempt} ${a.code}, waited ${formatDuration(a.retryInMs ?? 0)}`).join('; ')}\n`;
    }
    if (r.ok && r.replyLost) text += `\n${r.name} (${r.address}): accepted (reply lost): attempt ${r.attempts.length} failed, but the node came back with this config\n`;
    // Talos's own warnings about the config it accepted (ApplyConfiguration reply): the same as in JSON.
    for (const w of r.warnings ?? []) text += `\nWARNING: ${r.name} (${r.address}): Talos says: ${w}\n`;
    if (!r.ok && !r.sameNodeAs) text += `\n${r.name} (${r.address}): ${r.reason}\n  fix: ${r.fix}\n`;
  }
  const failed = results.filter((r) => !r.ok && !r.sameNodeAs);
  const nodes = results.filter((r) => !r.sameNodeAs).length;
  text += failed.length === 0 ? `\napplied: all ${nodes} node(s) configured and out of maintenance\n` : `\napply FAILED for ${failed.map((r) => `${r.name} (${r.address})`).join(', ')}; the other nodes were configured\n`;
  return text;
}

/** Each deadline apply sets (ms), from --call-timeout. */
export interface ApplyDeadlines {
  /** Each look at a node (TLS handshake, insecure MachineStatus): --call-timeout. */
  probeMs: number;
  /** Each ApplyConfiguration call: the longer of --call-timeout and MIN_APPLY_CONFIGURATION_DEADLINE_MS. */
  applyConfigurationMs: number;
}

/** apply's settings from its flags (each flag read here is one the run uses). Throws UsageError naming a bad flag. */
export function applyOptions(values: FlagValues): { policy: RetryPolicy; parallel: number; waitTimeoutMs: number; deadlines: ApplyDeadlines } {
  requireMaintenanceMode(values);
  const callTimeout = callTimeoutMs(values);
  return {
    policy: retryPolicy(values),
    parallel: intFlag(values, 'parallel', 1, 1, 256),
    waitTimeoutMs: durationFlag(values, 'wait-timeout', 10 * 60_000, 1),
    deadlines: { probeMs: callTimeout, applyConfigurationMs: Math.max(MIN_APPLY_CONFIGURATION_DEADLINE_MS, callTimeout) },
  };
}

export async function runApply(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'>): Promise<ExitCode> {
  const { values, output } = parseCommand(args, APPLY_FLAGS);
  const { policy, parallel, waitTimeoutMs, deadlines } = applyOptions(values);
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
  // One node behind several addresses is configured once, through the first; the others are reported as it.
  const { groups, conflicts } = targets.length > 1 ? groupSameNodes(targets, await servedFingerprints(targets.map((t) => t.address), APID_PORT, deadlines.probeMs)) : { groups: targets.map((primary) => ({ primary, aliases: [] })), conflicts: [] };
  if (conflicts.length > 0) throw new UsageError(`${conflicts.map(describeConflict).join('; ')}; give each node one config`);
  const primaries = new Set(groups.map((g) => g.primary));
  const toApply = items.filter((i) => primaries.has(i.target));
  const progress = new Progress(io, targets);
  for (const g of groups) for (const a of g.aliases) progress.update(a.address, `same node as ${g.primary.address} (the same server certificate answers on both): configured through it`);
  progress.note(
    `applying to ${toApply.length} node(s), ${parallel} at a time; retries ${policy.retries} (delays ${retrySchedule(policy).map(formatDuration).join(', ') || 'none'}); deadlines: ${formatDuration(deadlines.probeMs)} per look, ${formatDuration(deadlines.applyConfigurationMs)} per ApplyConfiguration`,
  );
  const deps = applyIo({
    callDeadlineMs: deadlines.applyConfigurationMs,
    probeDeadlineMs: deadlines.probeMs,
    pollMs: POLL_MS,
    waitTimeoutMs,
    casFor: (t) => cas.get(t.address) ?? [],
    progress: (t, text) => progress.update(t.address, text),
  });
  const applied = await applyAll(toApply, parallel, policy, deps);
  const results = resultPerAddress(targets, groups, applied, (t, primary, r): NodeApplyResult => ({ name: t.name, address: t.address, file: t.file ?? '', ok: r?.ok ?? false, attempts: [], sameNodeAs: primary }));
  const ok = results.every((r) => r.ok);
  emit(io, output, { command: 'apply', ok, policy: { ...policy, scheduleMs: retrySchedule(policy) }, parallel, deadlines, nodes: results, failed: results.filter((r) => !r.ok && !r.sameNodeAs).map((r) => r.address) }, () => render(results));
  return ok ? EXIT.OK : EXIT.FAILURE;
}
