// What the control planes' agreement states say together: which node was chosen to bootstrap, who knows it,
// and who cannot be asked. Pure. Two different chosen values would break the agreement's one invariant; it
// is said first and loudly.
import type { NodeObservation } from './verdict.ts';

/** One control plane's agreement (its Status reply), or why it could not be read. */
export type AgreementView =
  | { node: string; phase: string; chosen?: string; quorumError?: string; bootstrapIssued: boolean }
  | { error: string };

export interface AgreementSummary {
  kind: 'chosen' | 'undecided' | 'conflict' | 'unknown';
  /** The chosen node's identity, and its name when one of the observed nodes reports it as itself. */
  chosen?: string;
  chosenName?: string;
  text: string;
}

/** The table column: the node's phase, the chosen node, or why it is unknown. */
export function agreementColumn(n: NodeObservation, names: Map<string, string>): string {
  const a = n.agreement;
  if (!a) return '';
  if ('error' in a) return '?';
  if (a.chosen !== undefined) return `chosen ${names.get(a.chosen) ?? a.chosen}${a.bootstrapIssued ? ' (bootstrap issued)' : ''}`;
  return a.quorumError ? 'quorum-error' : a.phase;
}

/** Node identity → the name of the observed node that reports it as itself. */
export function identityNames(nodes: NodeObservation[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const n of nodes) if (n.agreement && !('error' in n.agreement)) names.set(n.agreement.node, n.name);
  return names;
}

export function summarizeAgreement(nodes: NodeObservation[]): AgreementSummary | undefined {
  const asked = nodes.filter((n) => n.agreement !== undefined);
  if (asked.length === 0) return undefined;
  const names = identityNames(nodes);
  const named = (id: string) => names.get(id) ?? id;
  const read = asked.filter((n) => !('error' in (n.agreement as AgreementView)));
  const unread = asked.filter((n) => 'error' in (n.agreement as AgreementView));
  // ext-autobootstrap finishes (exit 0) once the cluster is formed, and its agreement server with it.
  const unreadText =
    unread.length > 0
      ? `; unknown on ${unread.map((n) => `${n.name} (${(n.agreement as { error: string }).error})`).join(', ')} (a daemon serves it only while it runs: after a bootstrap it has finished)`
      : '';
  const chosen = new Map<string, string[]>();
  for (const n of read) {
    const c = (n.agreement as { chosen?: string }).chosen;
    if (c !== undefined) chosen.set(c, [...(chosen.get(c) ?? []), n.name]);
  }
  if (chosen.size > 1) {
    return { kind: 'conflict', text: `agreement CONFLICT: ${[...chosen].map(([c, by]) => `${by.join(', ')} say ${named(c)}`).join('; ')}: stop and report this${unreadText}` };
  }
  const [only] = [...chosen];
  if (only) {
    const [id, by] = only;
    const rest = read.filter((n) => !by.includes(n.name)).map((n) => `${n.name} ${(n.agreement as { phase: string }).phase}`);
    return {
      kind: 'chosen',
      chosen: id,
      ...(names.has(id) ? { chosenName: names.get(id) as string } : {}),
      text: `agreement: ${named(id)} is the chosen bootstrapper (known to ${by.join(', ')}${rest.length > 0 ? `; not yet to ${rest.join(', ')}` : ''})${unreadText}`,
    };
  }
  if (read.length === 0) return { kind: 'unknown', text: `agreement: could not be read${unreadText}` };
  const phases = read.map((n) => {
    const a = n.agreement as { phase: string; quorumError?: string };
    return `${n.name} ${a.quorumError ? `quorum-error (${a.quorumError})` : a.phase}`;
  });
  return { kind: 'undecided', text: `agreement: no bootstrapper chosen yet (${phases.join(', ')})${unreadText}` };
}
