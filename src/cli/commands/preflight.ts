// autobootstrap preflight: every node checked before anything is sent to it.
import { EXIT, type ExitCode } from '../../exit-codes.ts';
import { mapBounded } from '../../util/bounded.ts';
import { DISKS } from '../../talos/resources.ts';
import { TalosCallError } from '../../talos/node-client.ts';
import { sleep } from '../../util/sleep.ts';
import { insecureClient, shortTransportError } from '../nodes/connect.ts';
import type { DiskInfo } from '../rules/disk-selector.ts';
import { identifyNode, type NodeProbe, type TrustedCa } from '../nodes/identify-node.ts';
import { osCaOf, readNodeConfig } from '../inputs/node-config.ts';
import { COMMON_FLAGS, RETRY_FLAGS, parseCommand, resolveInputs, retryPolicy, type InputContext } from '../inputs/options.ts';
import { CHECKS, preflightChecks, type Check } from '../rules/preflight-checks.ts';
import { Progress, json, table, type Io } from '../render/report.ts';
import { retrySchedule, type RetryPolicy } from '../rules/retry.ts';
import type { NodeTarget } from '../inputs/target.ts';

export const PREFLIGHT_FLAGS = [...COMMON_FLAGS, ...RETRY_FLAGS];
const REACH_ATTEMPTS = 3;
const PREFLIGHT_CONCURRENCY = 32;
const DEADLINE_MS = 5_000;

export interface PreflightResult {
  name: string;
  address: string;
  file: string;
  ok: boolean;
  checks: Check[];
}

/** Up to three looks with the retry policy's first delays: a node still booting gets a moment. */
async function reach(address: string, cas: TrustedCa[], policy: RetryPolicy): Promise<{ probe: NodeProbe; attempts: number }> {
  const delays = retrySchedule({ ...policy, retries: REACH_ATTEMPTS - 1 });
  for (let attempt = 1; ; attempt++) {
    const probe = await identifyNode(address, cas, DEADLINE_MS);
    const delay = delays[attempt - 1];
    if (probe.kind === 'maintenance' || probe.kind === 'configured' || delay === undefined) return { probe, attempts: attempt };
    await sleep(delay);
  }
}

async function listDisks(address: string): Promise<DiskInfo[] | { error: string }> {
  const client = insecureClient(address, DEADLINE_MS);
  try {
    const list = await client.listResources(DISKS);
    return list.map((r) => ({ ...((r.spec ?? {}) as Omit<DiskInfo, 'id'>), id: r.id }));
  } catch (e) {
    return { error: e instanceof TalosCallError ? shortTransportError(e.details) : String(e) };
  } finally {
    client.close();
  }
}

export async function preflightNode(target: NodeTarget, policy: RetryPolicy, progress: Progress): Promise<PreflightResult> {
  progress.update(target.address, 'checking');
  const config = readNodeConfig(target.file as string);
  const ca = config.ok ? osCaOf(config.config) : undefined;
  const { probe, attempts } = await reach(target.address, ca ? [ca] : [], policy);
  const disks = probe.kind === 'maintenance' ? await listDisks(target.address) : undefined;
  const checks = preflightChecks({ address: target.address, probe, attempts, config, disks });
  const ok = checks.every((c) => c.result === 'pass');
  progress.update(target.address, ok ? 'ok' : `FAILED: ${checks.filter((c) => c.result === 'fail').map((c) => c.name).join(', ')}`);
  return { name: target.name, address: target.address, file: target.file ?? '', ok, checks };
}

function render(results: PreflightResult[]): string {
  const mark = (c: Check | undefined) => (c === undefined ? '' : c.result === 'pass' ? 'ok' : c.result === 'fail' ? 'FAIL' : '-');
  let text = table(
    ['NODE', 'ADDRESS', ...CHECKS.map((c) => c.toUpperCase())],
    results.map((r) => [r.name, r.address, ...CHECKS.map((name) => mark(r.checks.find((c) => c.name === name)))]),
  );
  for (const r of results) {
    for (const c of r.checks.filter((x) => x.result === 'fail')) text += `\n${r.name} (${r.address}) ${c.name}: ${c.detail}\n  fix: ${c.fix ?? ''}\n`;
  }
  const failed = results.filter((r) => !r.ok);
  text += failed.length === 0 ? `\npreflight passed: ${results.length} node(s) ready for apply\n` : `\npreflight FAILED for ${failed.map((r) => r.name).join(', ')}\n`;
  return text;
}

export async function runPreflight(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'>): Promise<ExitCode> {
  const { values, output } = parseCommand(args, PREFLIGHT_FLAGS);
  const policy = retryPolicy(values);
  const { targets } = await resolveInputs(values, { ...ctx, needFiles: true });
  const progress = new Progress(io, targets);
  // Read-only and mostly waiting on the network: many nodes at once, but not hundreds of connections.
  const results = await mapBounded(targets, PREFLIGHT_CONCURRENCY, (t) => preflightNode(t, policy, progress));
  const ok = results.every((r) => r.ok);
  if (output === 'json') json(io, { command: 'preflight', ok, nodes: results });
  else io.out(render(results));
  return ok ? EXIT.OK : EXIT.FAILURE;
}
