// autobootstrap verify: wait until every node left maintenance and booted, then until every control
// plane is a member of ONE etcd cluster. Stuck nodes are named with their state and the next step.
import { EXIT, type ExitCode } from '../../exit-codes.ts';
import { formatDuration } from '../../util/duration.ts';
import { applyHint, configFacts, distinctNodes, nodeState, observeAll, type SameNodeAddress } from '../nodes/cluster-view.ts';
import { CONFIGURED_FLAGS, callTimeoutMs, durationFlag, inputsWithTalosconfig, parseCommand, type InputContext } from '../inputs/options.ts';
import { emit } from '../render/output.ts';
import type { FlagValues } from '../inputs/flags.ts';
import { Progress, table, type Io } from '../render/report.ts';
import { problemLines } from '../render/verdict-text.ts';
import { sleep } from '../../util/sleep.ts';
import { clusterVerdict, verifyDone, type ClusterVerdict, type NodeObservation, type StuckNode } from '../rules/verdict.ts';
import { changedNodes } from '../rules/steady.ts';

export const VERIFY_FLAGS = [
  ...CONFIGURED_FLAGS,
  { name: 'timeout', kind: 'string' as const, help: 'give up after this long', default: '5m' },
  { name: 'interval', kind: 'string' as const, help: 'between looks at the cluster', default: '5s' },
];

/** Why verify stopped without success, beyond the nodes named stuck. */
interface Ending {
  timeoutMs: number;
  /** The last look was healthy, but the one before it was not, or differed. */
  unconfirmed: boolean;
}

function render(nodes: NodeObservation[], cluster: ClusterVerdict, stuck: StuckNode[], ok: boolean, waitedMs: number, aliases: SameNodeAddress[], end: Ending): string {
  let text = table(['NODE', 'ADDRESS', 'ROLE', 'STATE'], [...nodes.map((n) => [n.name, n.address, n.role ?? '?', nodeState(n)]), ...aliases.map((a) => [a.name, a.address, '', `same node as ${a.sameNodeAs}`])]);
  text += `\ncluster: ${cluster.text}\n`;
  if (!ok) text += problemLines(cluster);
  for (const s of stuck) text += `\n${s.name} (${s.address}) is stuck: ${s.state}\n  next: ${s.next}\n`;
  if (!ok && end.unconfirmed) text += `\nhealthy on the last look only: verify reports success when two looks in a row agree on every node\n`;
  const timedOut = `--timeout ${formatDuration(end.timeoutMs)} passed; raise --timeout to wait longer`;
  text += ok
    ? `\nverified after ${formatDuration(waitedMs)}: every node configured, one healthy etcd cluster, steady over two looks\n`
    : cluster.kind === 'split'
      ? '\nverify FAILED: split brain\n'
      : cluster.kind === 'wrong-cluster'
        ? `\nverify FAILED after ${formatDuration(waitedMs)}\n`
        : `\nverify FAILED after ${formatDuration(waitedMs)}: ${timedOut}\n`;
  return text;
}

/** verify's settings from its flags. */
export function verifyOptions(values: FlagValues): { timeoutMs: number; intervalMs: number } {
  return { timeoutMs: durationFlag(values, 'timeout', 5 * 60_000, 1), intervalMs: durationFlag(values, 'interval', 5_000, 1) };
}

export async function runVerify(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'> & { env: Record<string, string | undefined> }): Promise<ExitCode> {
  const { values, output } = parseCommand(args, VERIFY_FLAGS);
  const { timeoutMs, intervalMs } = verifyOptions(values);
  const callTimeout = callTimeoutMs(values);
  const { inputs, talosconfig, endpoints } = await inputsWithTalosconfig(values, ctx);
  const facts = configFacts(inputs.targets);
  const byAddress = new Map(inputs.targets.map((t) => [t.address, t]));
  const progress = new Progress(io, inputs.targets);
  // One node behind several addresses is looked at once (its other addresses are named as it).
  const { targets, aliases } = await distinctNodes(inputs.targets, callTimeout);
  for (const a of aliases) progress.update(a.address, `same node as ${a.sameNodeAs}`);
  if (!talosconfig) progress.note('no talosconfig found: configured nodes can only be seen leaving maintenance, not checked (give --talosconfig)');
  const started = Date.now();
  let said = '';
  // The previous look, and whether it was healthy: one healthy look of a flapping node proves nothing.
  let previous: NodeObservation[] | undefined;
  let previousHealthy = false;
  for (;;) {
    const nodes = await observeAll(targets, talosconfig, facts, endpoints, callTimeout);
    for (const n of nodes) progress.update(n.address, nodeState(n));
    const cluster = clusterVerdict(nodes);
    const { done: healthyNow, stuck: stuckNow } = verifyDone(nodes, cluster, (n) => applyHint(byAddress.get(n.address) ?? { address: n.address, name: n.name }));
    const changes = changedNodes(previous, nodes);
    const done = healthyNow && previousHealthy && changes.length === 0;
    const flapping: StuckNode[] = changes
      .filter((c) => !stuckNow.some((s) => s.address === c.address))
      .map((c) => ({
        name: c.name,
        address: c.address,
        state: `changed between the last two looks (${c.before} -> ${c.after})`,
        next: `not steady: watch it (talosctl -n ${c.address} services; talosctl -n ${c.address} logs etcd) and re-run verify once it settles`,
      }));
    const stuck = [...stuckNow, ...flapping];
    const waited = Date.now() - started;
    const finished = done || cluster.kind === 'split' || cluster.kind === 'wrong-cluster' || waited + intervalMs > timeoutMs;
    if (finished) {
      const code = done ? EXIT.OK : cluster.kind === 'split' ? EXIT.REFUSED : EXIT.FAILURE;
      const end = { timeoutMs, unconfirmed: !done && healthyNow };
      emit(io, output, { command: 'verify', ok: done, cluster, nodes, sameNode: aliases, stuck, waitedMs: waited, ...(end.unconfirmed ? { unconfirmed: true } : {}) }, () =>
        render(nodes, cluster, done ? [] : stuck, done, waited, aliases, end),
      );
      return code;
    }
    for (const c of flapping) progress.note(`${c.name} (${c.address}) ${c.state}`);
    previous = nodes;
    previousHealthy = healthyNow;
    if (cluster.text !== said) progress.note(`cluster: ${cluster.text}`);
    said = cluster.text;
    await sleep(intervalMs);
  }
}
