// One look at every node, shared by verify and status.
import type { TrustedCa } from './identify-node.ts';
import { osCaOf, readNodeConfig } from '../inputs/node-config.ts';
import { observeNode } from './observe.ts';
import type { Talosconfig } from '../inputs/talosconfig.ts';
import type { NodeTarget } from '../inputs/target.ts';
import type { NodeObservation } from '../rules/verdict.ts';

const DEADLINE_MS = 5_000;

/** What the config files say, for nodes that cannot say it themselves yet. */
export interface ConfigFacts {
  role: string;
  ca: TrustedCa | undefined;
}

export function configFacts(targets: NodeTarget[]): Map<string, ConfigFacts> {
  const facts = new Map<string, ConfigFacts>();
  for (const t of targets) {
    if (!t.file) continue;
    const read = readNodeConfig(t.file);
    if (read.ok) facts.set(t.address, { role: read.config.facts.machineType, ca: osCaOf(read.config) });
  }
  return facts;
}

export function observeAll(targets: NodeTarget[], talosconfig: Talosconfig | undefined, facts: Map<string, ConfigFacts>): Promise<NodeObservation[]> {
  const talosconfigCa: TrustedCa[] = talosconfig ? [{ pem: talosconfig.identity.caPem, what: `the CA of talosconfig ${talosconfig.path}` }] : [];
  return Promise.all(
    targets.map((t) => {
      const f = facts.get(t.address);
      const cas = [...talosconfigCa, ...(f?.ca ? [f.ca] : [])];
      return observeNode(t, { identity: talosconfig?.identity, cas, deadlineMs: DEADLINE_MS, ...(f ? { configRole: f.role } : {}) });
    }),
  );
}

export function applyHint(t: NodeTarget): string {
  return `autobootstrap apply --nodes ${t.address} --file ${t.file ?? 'CONFIG.yaml'}`;
}

/** One short phrase per node for progress lines and tables. */
export function nodeState(n: NodeObservation): string {
  if (n.reach === 'unreachable') return `unreachable (${n.detail ?? 'no answer'})`;
  if (n.reach === 'unknown') return `unknown (${n.detail ?? 'no detail'})`;
  if (n.reach === 'maintenance') return 'maintenance';
  const parts = [n.stage ?? 'configured'];
  if (n.etcdState !== undefined) parts.push(`etcd ${n.etcdState}`);
  if (n.detail) parts.push(n.detail);
  return parts.join(', ');
}
