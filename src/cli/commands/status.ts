// autobootstrap status: one table of the cluster now and a one-line verdict.
import { EXIT, type ExitCode } from '../../exit-codes.ts';
import { configFacts, observeAll } from '../nodes/cluster-view.ts';
import { COMMON_FLAGS, inputsWithTalosconfig, parseCommand, type InputContext } from '../inputs/options.ts';
import { json, table, type Io } from '../render/report.ts';
import { clusterVerdict, type NodeObservation } from '../rules/verdict.ts';

export const STATUS_FLAGS = COMMON_FLAGS;

/** Member ids as etcdctl and talosctl print them: 16 hex digits. */
const hexId = (id: string | undefined) => (id === undefined ? '' : BigInt(id).toString(16).padStart(16, '0'));

/** "not installed" only when the node's service list was read and lacks it; without that list, "?". */
export function extColumn(n: NodeObservation): string {
  if (n.extState !== undefined) return n.extState;
  if (n.servicesRead) return 'not installed';
  return n.reach === 'configured' ? '?' : '';
}

export function row(n: NodeObservation): string[] {
  const stage = n.reach === 'configured' ? (n.stage ?? 'configured') : n.reach;
  return [n.name, n.address, n.role ?? '?', stage, n.etcdState ?? (n.reach === 'configured' && n.role === 'worker' ? '-' : ''), hexId(n.etcdMemberId), extColumn(n)];
}

export async function runStatus(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'> & { env: Record<string, string | undefined> }): Promise<ExitCode> {
  const { values, output } = parseCommand(args, STATUS_FLAGS);
  const { inputs, talosconfig } = await inputsWithTalosconfig(values, ctx);
  const nodes = await observeAll(inputs.targets, talosconfig, configFacts(inputs.targets));
  const cluster = clusterVerdict(nodes);
  if (output === 'json') json(io, { command: 'status', cluster, nodes });
  else {
    io.out(table(['NODE', 'ADDRESS', 'ROLE', 'STAGE', 'ETCD', 'MEMBER ID', 'EXT-AUTOBOOTSTRAP'], nodes.map(row)));
    io.out(`\n${cluster.text}\n`);
  }
  return cluster.kind === 'split' ? EXIT.REFUSED : EXIT.OK;
}
