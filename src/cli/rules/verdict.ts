// What verify and status conclude from one look at every node. Pure: observations in, verdicts out.
// An observation that failed is "unknown", never "not bootstrapped" — the daemon's rule, kept here.
import { oneCluster } from '../../bootstrap/core/one-cluster.ts';

export interface NodeObservation {
  name: string;
  address: string;
  /**
   * How the node answered: in maintenance (insecure), with its config (mutual TLS, or its certificate
   * chains to a CA we know), not at all, or in a way that proves neither (unknown).
   */
  reach: 'maintenance' | 'configured' | 'unreachable' | 'unknown';
  detail?: string;
  /** controlplane / worker / init, as the node says (MachineType) or, failing that, as its config says. */
  role?: string;
  stage?: string;
  /** etcd service state (ServiceList), control planes only. */
  etcdState?: string;
  /** This node's etcd member id (decimal), once its etcd runs. */
  etcdMemberId?: string;
  /** Member ids of the etcd cluster this node's etcd belongs to (EtcdMemberList query_local). */
  etcdMembers?: string[];
  /** ext-autobootstrap service state; undefined when the node does not run it, or its services were not read. */
  extState?: string;
  /** The node's service list was read (with the talosconfig's credentials). */
  servicesRead?: boolean;
  /** Its last log lines, fetched for control planes waiting for etcd. */
  extLog?: string[];
}

export type ClusterKind = 'not-bootstrapped' | 'bootstrapping' | 'healthy' | 'split' | 'unknown';

export interface ClusterVerdict {
  kind: ClusterKind;
  text: string;
  /** For a split: the control planes on each side. */
  sides?: string[][];
}

export const isControlPlaneRole = (role: string | undefined): boolean => role === 'controlplane' || role === 'init';

/** A node that did not show itself and whose role nobody told us: it may be a control plane running etcd. */
const unseenOfUnknownRole = (nodes: NodeObservation[]) => nodes.filter((n) => n.role === undefined && (n.reach === 'unreachable' || n.reach === 'unknown'));

export function clusterVerdict(nodes: NodeObservation[]): ClusterVerdict {
  const cps = nodes.filter((n) => isControlPlaneRole(n.role));
  if (cps.length === 0) return { kind: 'unknown', text: 'no control plane seen with its config yet' };
  const views = cps.filter((n) => n.etcdMembers !== undefined).map((n) => ({ address: n.name, memberIds: n.etcdMembers as string[] }));
  const one = oneCluster(views);
  if (one.kind === 'split') {
    return {
      kind: 'split',
      sides: one.groups,
      text: `SPLIT BRAIN: ${one.groups.length} etcd clusters (${one.groups.map((g) => g.join('+')).join(' vs ')}); stop here and recover etcd from the side to keep (talosctl etcd snapshot, reset the others)`,
    };
  }
  const running = cps.filter((n) => n.etcdState === 'Running');
  if (running.length === 0) {
    // A node that did not answer and whose role nobody told us may be a control plane running etcd.
    const unseen = [...cps.filter((n) => n.reach !== 'configured' || n.etcdState === undefined), ...unseenOfUnknownRole(nodes)];
    if (unseen.length > 0) return { kind: 'unknown', text: `no etcd seen running; cannot see ${unseen.map((n) => n.name).join(', ')}` };
    return { kind: 'not-bootstrapped', text: `not bootstrapped: no control plane runs etcd yet (${cps.length} waiting)` };
  }
  const members = new Set(one.memberIds);
  const joined = cps.filter((n) => n.etcdState === 'Running' && n.etcdMemberId !== undefined && members.has(n.etcdMemberId));
  const unseen = unseenOfUnknownRole(nodes);
  if (joined.length === cps.length && unseen.length > 0) {
    return { kind: 'unknown', text: `etcd runs on all ${cps.length} known control plane(s), but cannot see ${unseen.map((n) => n.name).join(', ')} (role unknown)` };
  }
  if (joined.length === cps.length) {
    return { kind: 'healthy', text: `healthy single cluster: ${cps.length} control plane${cps.length === 1 ? '' : 's'}, one etcd cluster of ${members.size} member${members.size === 1 ? '' : 's'}` };
  }
  const missing = cps.filter((n) => !joined.includes(n)).map((n) => n.name);
  return { kind: 'bootstrapping', text: `bootstrapping: etcd runs on ${joined.length}/${cps.length} control planes; waiting for ${missing.join(', ')}` };
}

export interface StuckNode {
  name: string;
  address: string;
  state: string;
  next: string;
}

/** Why a node is not done yet and what to do about it; undefined when it is where it should be. */
export function stuckReason(n: NodeObservation, cluster: ClusterKind, applyHint: string): StuckNode | undefined {
  const base = { name: n.name, address: n.address };
  if (n.reach === 'unreachable') return { ...base, state: `unreachable (${n.detail ?? 'no answer'})`, next: 'check power and network: is the node up, is TCP 50000 reachable from here?' };
  if (n.reach === 'maintenance') return { ...base, state: 'still in maintenance (no config)', next: `re-run apply for it: ${applyHint}` };
  if (n.reach === 'unknown') {
    return { ...base, state: `cannot tell what it is (${n.detail ?? 'no detail'})`, next: `check that ${n.address} is a node of this cluster and that the talosconfig is this cluster's: talosctl -n ${n.address} version` };
  }
  if (n.stage !== 'booting' && n.stage !== 'running') {
    return { ...base, state: `stage ${n.stage ?? 'unknown'}${n.detail ? ` (${n.detail})` : ''}`, next: 'watch the node: talosctl dmesg -n ' + n.address };
  }
  if (!isControlPlaneRole(n.role)) return undefined;
  if (cluster === 'split') return undefined;
  if (n.etcdState === 'Running') {
    // Running but its membership unread: nothing proves it joined the one cluster.
    if (n.etcdMembers !== undefined) return undefined;
    return { ...base, state: `etcd running, membership unreadable${n.detail ? ` (${n.detail})` : ''}`, next: `check its etcd: talosctl -n ${n.address} etcd members; talosctl -n ${n.address} logs etcd` };
  }
  const ext = n.extState === undefined ? 'ext-autobootstrap is not installed on this node' : `ext-autobootstrap is ${n.extState}`;
  const log = n.extLog && n.extLog.length > 0 ? `; its last lines: ${n.extLog.map((l) => summarizeLogLine(l)).join(' | ')}` : '';
  return {
    ...base,
    state: `waiting for etcd (etcd ${n.etcdState ?? 'unknown'})`,
    next: `${ext}${log}; see talosctl logs ext-autobootstrap -n ${n.address}`,
  };
}

/** The daemon logs JSON lines; show their message, not the envelope. */
export function summarizeLogLine(line: string): string {
  try {
    const parsed = JSON.parse(line) as { msg?: unknown };
    if (typeof parsed.msg === 'string') return parsed.msg;
  } catch {
    // not JSON: show as is
  }
  return line;
}

/** verify is done when no node is stuck and the cluster is one healthy etcd cluster. */
export function verifyDone(nodes: NodeObservation[], cluster: ClusterVerdict, applyHint: (n: NodeObservation) => string): { done: boolean; stuck: StuckNode[] } {
  const stuck = nodes.map((n) => stuckReason(n, cluster.kind, applyHint(n))).filter((s): s is StuckNode => s !== undefined);
  return { done: stuck.length === 0 && cluster.kind === 'healthy', stuck };
}
