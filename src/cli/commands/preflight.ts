// autobootstrap preflight: every node checked before anything is sent to it.
import { EXIT, type ExitCode } from '../../exit-codes.ts';
import { mapBounded } from '../../util/bounded.ts';
import { DISKS } from '../../talos/resources.ts';
import { status } from '@grpc/grpc-js';
import { TalosCallError } from '../../talos/node-client.ts';
import { sleep } from '../../util/sleep.ts';
import { insecureClient, shortTransportError } from '../nodes/connect.ts';
import type { DiskInfo } from '../rules/disk-selector.ts';
import { identifyNode, type NodeProbe, type TrustedCa } from '../nodes/identify-node.ts';
import { osCaOf, readNodeConfig } from '../inputs/node-config.ts';
import { MAINTENANCE_FLAGS, requireMaintenanceMode, RETRY_FLAGS, callTimeoutFlag, callTimeoutMs, parseCommand, resolveInputs, retryPolicy, type InputContext } from '../inputs/options.ts';
import { CHECKS, preflightChecks, type Check, type PreflightInput } from '../rules/preflight-checks.ts';
import { machineConfigCheck } from '../../machine-config/preflight-check.ts';
import { readFileSync } from 'node:fs';
import { emit } from '../render/output.ts';
import type { FlagValues } from '../inputs/flags.ts';
import { APID_PORT } from '../nodes/connect.ts';
import { servedFingerprints } from '../nodes/fingerprint.ts';
import { planChecks, type PlanCheck } from '../rules/plan-checks.ts';
import { describeConflict, groupSameNodes, resultPerAddress } from '../rules/same-node.ts';
import { Progress, table, type Io } from '../render/report.ts';
import { DEFAULT_RETRY, retrySchedule, type RetryPolicy } from '../rules/retry.ts';
import type { NodeTarget } from '../inputs/target.ts';

/** preflight looks, it does not wait out a boot: fewer retries by default than apply. */
export const PREFLIGHT_RETRIES = 2;
export const PREFLIGHT_FLAGS = [
  ...MAINTENANCE_FLAGS,
  ...RETRY_FLAGS.map((f) => (f.name === 'retries' ? { ...f, help: 'looks at an unreachable node after the first', default: String(PREFLIGHT_RETRIES) } : f)),
  callTimeoutFlag('deadline of each call to a node (TLS handshake, MachineStatus, disk list); raise it on a slow network, where a node that answers too late is named as slow'),
];
const PREFLIGHT_CONCURRENCY = 32;

export interface PreflightResult {
  name: string;
  address: string;
  file: string;
  ok: boolean;
  checks: Check[];
  /** Another address of a node checked through this one (the same server certificate answers on both). */
  sameNodeAs?: string;
}

/** 1 + --retries looks on the retry schedule: a node still booting gets a moment. */
async function reach(address: string, cas: TrustedCa[], policy: RetryPolicy, deadlineMs: number): Promise<{ probe: NodeProbe; attempts: number }> {
  const delays = retrySchedule(policy);
  for (let attempt = 1; ; attempt++) {
    const probe = await identifyNode(address, cas, deadlineMs);
    const delay = delays[attempt - 1];
    if (probe.kind === 'maintenance' || probe.kind === 'configured' || delay === undefined) return { probe, attempts: attempt };
    await sleep(delay);
  }
}

async function listDisks(address: string, deadlineMs: number): Promise<DiskInfo[] | { error: string; timedOut?: boolean }> {
  const client = insecureClient(address, deadlineMs);
  try {
    const list = await client.listResources(DISKS);
    return list.map((r) => ({ ...((r.spec ?? {}) as Omit<DiskInfo, 'id'>), id: r.id }));
  } catch (e) {
    if (!(e instanceof TalosCallError)) return { error: String(e) };
    return { error: shortTransportError(e.details), ...(e.code === status.DEADLINE_EXCEEDED ? { timedOut: true } : {}) };
  } finally {
    client.close();
  }
}

/** The file's text for the machine-config check; undefined when unreadable (the config check names why). */
function configText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every check of one node: what was seen, then the config checked as Talos will check it when applied. */
export function nodeChecks(input: PreflightInput, text: string | undefined): Check[] {
  const { findings: _findings, ...check } = machineConfigCheck(text);
  return [...preflightChecks(input), { name: 'machine-config', ...check }];
}

/** `deadlineMs`: each call's deadline (--call-timeout). */
export async function preflightNode(target: NodeTarget, policy: RetryPolicy, progress: Progress, served: Map<string, string>, deadlineMs: number): Promise<PreflightResult> {
  progress.update(target.address, 'checking');
  const config = readNodeConfig(target.file as string);
  const ca = config.ok ? osCaOf(config.config) : undefined;
  const { probe, attempts } = await reach(target.address, ca ? [ca] : [], policy, deadlineMs);
  const disks = probe.kind === 'maintenance' ? await listDisks(target.address, deadlineMs) : undefined;
  const fingerprint = target.certFingerprints ? { expected: target.certFingerprints, served: served.get(target.address) } : undefined;
  const checks = nodeChecks({ address: target.address, probe, attempts, config, disks, callTimeoutMs: deadlineMs, ...(fingerprint ? { fingerprint } : {}) }, configText(target.file as string));
  const ok = checks.every((c) => c.result === 'pass');
  progress.update(target.address, ok ? 'ok' : `FAILED: ${checks.filter((c) => c.result === 'fail').map((c) => c.name).join(', ')}`);
  return { name: target.name, address: target.address, file: target.file ?? '', ok, checks };
}

/** Warnings of passed checks and of the plan, one line each, the same in text and JSON. */
function warningsOf(results: PreflightResult[], plan: PlanCheck[]): string[] {
  return [
    ...results.flatMap((r) => r.checks.filter((c) => c.warning).map((c) => `${r.name} (${r.address}) ${c.name}: ${c.warning}`)),
    ...plan.filter((c) => c.result === 'warn').map((c) => `${c.name}: ${c.detail}`),
  ];
}

function render(results: PreflightResult[], plan: PlanCheck[], warnings: string[]): string {
  const mark = (c: Check | undefined) => (c === undefined ? '' : c.result === 'pass' ? (c.warning ? 'WARN' : 'ok') : c.result === 'fail' ? 'FAIL' : '-');
  // A column only for checks some node had (cert-fingerprint appears only with --cert-fingerprint).
  const columns = CHECKS.filter((name) => results.some((r) => r.checks.some((c) => c.name === name)));
  let text = table(
    ['NODE', 'ADDRESS', ...columns.map((c) => c.toUpperCase())],
    results.map((r) => [r.name, r.address, ...(r.sameNodeAs ? [`same node as ${r.sameNodeAs}`] : columns.map((name) => mark(r.checks.find((c) => c.name === name))))]),
  );
  for (const r of results) {
    for (const c of r.checks.filter((x) => x.result === 'fail')) text += `\n${r.name} (${r.address}) ${c.name}: ${c.detail}\n  fix: ${c.fix ?? ''}\n`;
  }
  const planFailures = plan.filter((c) => c.result === 'fail');
  if (plan.length > 0) {
    text += '\nplan:\n';
    for (const c of plan) text += `  ${c.result === 'pass' ? 'ok  ' : c.result === 'warn' ? 'WARN' : 'FAIL'} ${c.name}: ${c.detail}\n${c.fix && c.result === 'fail' ? `       fix: ${c.fix}\n` : ''}`;
  }
  for (const w of warnings) text += `\nWARNING: ${w}\n`;
  const failed = results.filter((r) => !r.ok && !r.sameNodeAs);
  const nodes = results.filter((r) => !r.sameNodeAs).length;
  text +=
    failed.length === 0 && planFailures.length === 0
      ? `\npreflight passed: ${nodes} node(s) ready for apply${warnings.length > 0 ? ` (${warnings.length} warning${warnings.length === 1 ? '' : 's'} above)` : ''}\n`
      : `\npreflight FAILED${failed.length > 0 ? ` for ${failed.map((r) => r.name).join(', ')}` : ''}${planFailures.length > 0 ? `${failed.length > 0 ? ';' : ':'} plan: ${planFailures.map((c) => c.name).join(', ')}` : ''}\n`;
  return text;
}

/** preflight's retry policy from its flags (--retries defaults to PREFLIGHT_RETRIES). */
export function preflightPolicy(values: FlagValues): RetryPolicy {
  requireMaintenanceMode(values);
  return retryPolicy(values, { ...DEFAULT_RETRY, retries: PREFLIGHT_RETRIES });
}

/** preflight's settings from its flags: the retry policy, and each call's deadline (--call-timeout, ms). */
export function preflightOptions(values: FlagValues): { policy: RetryPolicy; callTimeoutMs: number } {
  return { policy: preflightPolicy(values), callTimeoutMs: callTimeoutMs(values) };
}

export async function runPreflight(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'>): Promise<ExitCode> {
  const { values, output } = parseCommand(args, PREFLIGHT_FLAGS);
  const { policy, callTimeoutMs: deadlineMs } = preflightOptions(values);
  const { targets } = await resolveInputs(values, { ...ctx, needFiles: true });
  const progress = new Progress(io, targets);
  // The certificate each address serves: one node behind several addresses is checked once, and
  // --cert-fingerprint is compared with it.
  const served = await servedFingerprints(targets.map((t) => t.address), APID_PORT, deadlineMs);
  const { groups, conflicts } = groupSameNodes(targets, served);
  for (const g of groups) for (const a of g.aliases) progress.update(a.address, `same node as ${g.primary.address} (the same server certificate answers on both)`);
  // Read-only and mostly waiting on the network: many nodes at once, but not hundreds of connections.
  const checked = await mapBounded(groups, PREFLIGHT_CONCURRENCY, (g) => preflightNode(g.primary, policy, progress, served, deadlineMs));
  const results = resultPerAddress(targets, groups, checked, (t, primary, r): PreflightResult => ({ name: t.name, address: t.address, file: t.file ?? '', ok: r?.ok ?? false, checks: [], sameNodeAs: primary }));
  const plan: PlanCheck[] = conflicts.map((c) => ({ name: 'same-node', result: 'fail', detail: describeConflict(c), fix: 'give each node one config: drop the line with the wrong file' }));
  const controlPlanes = groups.flatMap((g) => {
    const read = readNodeConfig(g.primary.file as string);
    if (!read.ok || !['controlplane', 'init'].includes(read.config.facts.machineType)) return [];
    return [{ node: `${g.primary.name} (${g.primary.address})`, config: read.config }];
  });
  plan.push(...planChecks(controlPlanes));
  const warnings = warningsOf(results, plan);
  const ok = results.every((r) => r.ok) && plan.every((c) => c.result !== 'fail');
  emit(io, output, { command: 'preflight', ok, nodes: results, plan, warnings }, () => render(results, plan, warnings));
  return ok ? EXIT.OK : EXIT.FAILURE;
}
