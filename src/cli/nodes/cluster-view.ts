// One look at every node, shared by verify and status.
import type { TrustedCa } from './identify-node.ts';
import { DEFAULT_CALL_TIMEOUT_MS } from '../inputs/options.ts';
import { osCaOf, readNodeConfig } from '../inputs/node-config.ts';
import { observeNode } from './observe.ts';
import type { Talosconfig } from '../inputs/talosconfig.ts';
import type { NodeTarget } from '../inputs/target.ts';
import type { NodeObservation } from '../rules/verdict.ts';
import { groupSameNodes } from '../rules/same-node.ts';
import { APID_PORT } from './connect.ts';
import { servedFingerprints } from './fingerprint.ts';

/** Each call's deadline when none is given (ms): --call-timeout's default. */
export const DEADLINE_MS = DEFAULT_CALL_TIMEOUT_MS;

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

/** `endpoints`: -e/--endpoints, else the talosconfig context's (talosctl's order); empty: each node directly. */
/** `deadlineMs`: each call's deadline (--call-timeout). */
export function observeAll(
  targets: NodeTarget[],
  talosconfig: Talosconfig | undefined,
  facts: Map<string, ConfigFacts>,
  endpoints: string[] = talosconfig?.endpoints ?? [],
  deadlineMs = DEADLINE_MS,
): Promise<NodeObservation[]> {
  const talosconfigCa: TrustedCa[] = talosconfig ? [{ pem: talosconfig.identity.caPem, what: `the CA of talosconfig ${talosconfig.path}` }] : [];
  return Promise.all(
    targets.map((t) => {
      const f = facts.get(t.address);
      const cas = [...talosconfigCa, ...(f?.ca ? [f.ca] : [])];
      return observeNode(t, { identity: talosconfig?.identity, cas, deadlineMs, endpoints, ...(f ? { configRole: f.role } : {}) });
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

/** Another address of a node looked at through its first address (the same server certificate answers on both). */
export interface SameNodeAddress {
  name: string;
  address: string;
  sameNodeAs: string;
}

/**
 * The nodes to look at: one address per node. Addresses where the same certificate answers are one node
 * (rules/same-node.ts); an address that does not answer directly (e.g. reachable only through an endpoint)
 * stands alone, as nothing proves otherwise.
 */
/** `deadlineMs`: each handshake's deadline (--call-timeout). */
export async function distinctNodes(targets: NodeTarget[], deadlineMs = DEADLINE_MS): Promise<{ targets: NodeTarget[]; aliases: SameNodeAddress[] }> {
  if (targets.length < 2) return { targets, aliases: [] };
  const { groups } = groupSameNodes(targets, await servedFingerprints(targets.map((t) => t.address), APID_PORT, deadlineMs));
  return {
    targets: groups.map((g) => g.primary),
    aliases: groups.flatMap((g) => g.aliases.map((a) => ({ name: a.name, address: a.address, sameNodeAs: g.primary.address }))),
  };
}
