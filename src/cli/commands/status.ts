// autobootstrap status: one table of the cluster now and a one-line verdict, with every node that keeps it
// from being healthy named with the reason. Only "healthy" exits 0 (see verdictExitCode).
import type { ExitCode } from '../../exit-codes.ts';
import { configFacts, distinctNodes, observeAll } from '../nodes/cluster-view.ts';
import { CONFIGURED_FLAGS, callTimeoutMs, inputsWithTalosconfig, intFlag, parseCommand, type InputContext } from '../inputs/options.ts';
import { emit } from '../render/output.ts';
import { table, type Io } from '../render/report.ts';
import { problemLines } from '../render/verdict-text.ts';
import { clusterVerdict, hexMemberId, isControlPlaneRole, verdictExitCode, type NodeObservation } from '../rules/verdict.ts';
import { agreementColumn, identityNames, summarizeAgreement } from '../rules/agreement-summary.ts';
import { agreementOf } from '../nodes/agreement-view.ts';
import { DEFAULT_AGREEMENT_PORT } from '../../config.ts';
import type { FlagValues } from '../inputs/flags.ts';

export const STATUS_FLAGS = [
  ...CONFIGURED_FLAGS,
  { name: 'agreement-port', kind: 'string' as const, help: "the daemons' agreement port (TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT), read for each control plane's agreement state", default: String(DEFAULT_AGREEMENT_PORT) },
];

const AGREEMENT_DEADLINE_MS = 3_000;

/** status's settings from its flags. */
export function statusOptions(values: FlagValues): { agreementPort: number } {
  return { agreementPort: intFlag(values, 'agreement-port', DEFAULT_AGREEMENT_PORT, 1, 65535) };
}

/** "not installed" only when the node's service list was read and lacks it; without that list, "?". */
export function extColumn(n: NodeObservation): string {
  if (n.extState !== undefined) return n.extState;
  if (n.servicesRead) return 'not installed';
  return n.reach === 'configured' ? '?' : '';
}

/** The etcd column: its service state, and "learner" when its member is one. */
function etcdColumn(n: NodeObservation): string {
  const state = n.etcdState ?? (n.reach === 'configured' && n.role === 'worker' ? '-' : '');
  const learner = n.etcdMemberId !== undefined && n.memberList?.some((m) => m.id === n.etcdMemberId && m.isLearner);
  return learner ? `${state} (learner)` : state;
}

export function row(n: NodeObservation): string[] {
  const stage = n.reach === 'configured' ? (n.stage ?? 'configured') : n.reach;
  return [n.name, n.address, n.role ?? '?', stage, etcdColumn(n), n.etcdMemberId === undefined ? '' : hexMemberId(n.etcdMemberId), extColumn(n)];
}

export async function runStatus(args: string[], io: Io, ctx: Omit<InputContext, 'needFiles'> & { env: Record<string, string | undefined> }): Promise<ExitCode> {
  const { values, output } = parseCommand(args, STATUS_FLAGS);
  const { agreementPort } = statusOptions(values);
  const { inputs, talosconfig, endpoints } = await inputsWithTalosconfig(values, ctx);
  // One node behind several addresses is looked at once (its other addresses are named as it).
  const callTimeout = callTimeoutMs(values);
  const { targets, aliases } = await distinctNodes(inputs.targets, callTimeout);
  const nodes = await observeAll(targets, talosconfig, configFacts(inputs.targets), endpoints, callTimeout);
  // Each configured control plane's agreement state: which node was chosen to bootstrap (read-only; unknown on error).
  const identity = talosconfig?.identity;
  if (identity) {
    await Promise.all(
      nodes.filter((n) => n.reach === 'configured' && isControlPlaneRole(n.role)).map(async (n) => {
        n.agreement = await agreementOf(n.address, identity, agreementPort, AGREEMENT_DEADLINE_MS);
      }),
    );
  }
  const agreement = summarizeAgreement(nodes);
  const names = identityNames(nodes);
  const cluster = clusterVerdict(nodes);
  const code = verdictExitCode(cluster.kind);
  emit(io, output, { command: 'status', ok: code === 0, cluster, ...(agreement ? { agreement } : {}), nodes, sameNode: aliases }, () => {
    const aliasRows = aliases.map((a) => [a.name, a.address, '', `same node as ${a.sameNodeAs}`, '', '', '', '']);
    let text = table(['NODE', 'ADDRESS', 'ROLE', 'STAGE', 'ETCD', 'MEMBER ID', 'EXT-AUTOBOOTSTRAP', 'AGREEMENT'], [...nodes.map((n) => [...row(n), agreementColumn(n, names)]), ...aliasRows]);
    if (agreement) text += `\n${agreement.text}\n`;
    text += `\n${cluster.text}\n`;
    text += problemLines(cluster);
    return text;
  });
  return code as ExitCode;
}
