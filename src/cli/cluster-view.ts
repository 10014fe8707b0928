// One look at every node, shared by verify and status.
import { readNodeConfig } from './node-config.ts';
import { observeNode } from './observe.ts';
import type { Talosconfig } from './talosconfig.ts';
import type { NodeTarget } from './target.ts';
import type { NodeObservation } from './verdict.ts';

const DEADLINE_MS = 5_000;

/** Roles from the config files, for nodes that cannot say their own yet. */
export function configRoles(targets: NodeTarget[]): Map<string, string> {
  const roles = new Map<string, string>();
  for (const t of targets) {
    if (!t.file) continue;
    const read = readNodeConfig(t.file);
    if (read.ok) roles.set(t.address, read.config.facts.machineType);
  }
  return roles;
}

export function observeAll(targets: NodeTarget[], talosconfig: Talosconfig | undefined, roles: Map<string, string>): Promise<NodeObservation[]> {
  return Promise.all(
    targets.map((t) => {
      const role = roles.get(t.address);
      return observeNode(t, { identity: talosconfig?.identity, deadlineMs: DEADLINE_MS, ...(role ? { configRole: role } : {}) });
    }),
  );
}

export function applyHint(t: NodeTarget): string {
  return `autobootstrap apply --nodes ${t.address} --file ${t.file ?? 'CONFIG.yaml'}`;
}

/** One short phrase per node for progress lines and tables. */
export function nodeState(n: NodeObservation): string {
  if (n.reach === 'unreachable') return `unreachable (${n.detail ?? 'no answer'})`;
  if (n.reach === 'maintenance') return 'maintenance';
  const parts = [n.stage ?? 'configured'];
  if (n.etcdState !== undefined) parts.push(`etcd ${n.etcdState}`);
  if (n.detail) parts.push(n.detail);
  return parts.join(', ');
}
