// What verify and status conclude from one look at every node. Pure: observations in, verdicts out.
// An observation that failed is "unknown", never "not bootstrapped" — the daemon's rule, kept here.
import { oneCluster } from '../../bootstrap/core/one-cluster.ts';
import type { AgreementView } from './agreement-summary.ts';

export interface NodeObservation {
  name: string;
  address: string;
  /**
   * How the node answered: in maintenance (insecure), with its config (mutual TLS, or its certificate
   * chains to a CA we know), not at all, or in a way that proves neither (unknown).
   */
  reach: 'maintenance' | 'configured' | 'unreachable' | 'unknown' | 'other-ca';
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
  /** The same members with hostname, learner flag and peer URLs. */
  memberList?: MemberSeen[];
  /** ext-autobootstrap service state; undefined when the node does not run it, or its services were not read. */
  extState?: string;
  /** The node's service list was read (with the talosconfig's credentials). */
  servicesRead?: boolean;
  /** Its last log lines, fetched for control planes waiting for etcd. */
  extLog?: string[];
  /** Its agreement state (control planes, status only). */
  agreement?: AgreementView;
  /**
   * The node has its config (its certificate chains to a CA we trust) but could not be read with the
   * talosconfig, for a reason known here: it refused the client certificate and the talosconfig shows why
   * (rules/client-credentials.ts), or it did not answer within the call timeout. `problem` completes
   * "has its config, but …"; `fix` is the operator's next step.
   */
  unread?: { problem: string; fix: string };
}

/** One etcd member as a control plane's EtcdMemberList shows it. */
export interface MemberSeen {
  /** uint64, decimal. */
  id: string;
  hostname: string;
  isLearner: boolean;
  peerUrls: string[];
}

/**
 * Every verdict verify and status can reach, each with its exit code (docs/operator.md lists them):
 *   healthy           every listed node seen with its config; every control plane runs etcd, is a voting member
 *                     of ONE member list that every control plane reports alike, and that list holds no member
 *                     a visible control plane does not account for                                      exit 0
 *   degraded          etcd runs, but something above does not hold; each node and what is wrong is named  exit 1
 *   bootstrapping     etcd runs on some control planes; the others are reachable, configured and joining  exit 1
 *   not-bootstrapped  every control plane seen, none runs etcd yet                                        exit 1
 *   unknown           no etcd seen running, and some node that may be a control plane cannot be seen     exit 1
 *   unreachable       no node answered at all: the cluster could not be seen                             exit 1
 *   wrong-cluster     the nodes answer with certificates of another CA than the talosconfig's            exit 1
 *   split             two etcd clusters (member lists that share nobody)                                 exit 3
 */
export type ClusterKind = 'healthy' | 'degraded' | 'bootstrapping' | 'not-bootstrapped' | 'unknown' | 'unreachable' | 'wrong-cluster' | 'split';

/** One node and what is wrong with it, or a member no visible control plane accounts for. */
export interface Problem {
  /** Node name, or `member <hex id>` for a member nobody accounts for. */
  node: string;
  address?: string;
  problem: string;
}

export interface ClusterVerdict {
  kind: ClusterKind;
  text: string;
  /** Every node (and unaccounted member) that keeps the cluster from being healthy. */
  problems: Problem[];
  /** For a split: the control planes on each side. */
  sides?: string[][];
}

export const isControlPlaneRole = (role: string | undefined): boolean => role === 'controlplane' || role === 'init';

/** Member ids as etcdctl and talosctl print them: 16 hex digits. */
import { hexMemberId } from '../../model/member-id.ts';

export { hexMemberId };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** Why a node that did not show itself with its config cannot be counted (undefined when it did). */
function unseenProblem(n: NodeObservation): string | undefined {
  switch (n.reach) {
    case 'maintenance':
      return 'in maintenance mode (no config): it rebooted without its config or never got one';
    case 'unreachable':
      return `unreachable (${n.detail ?? 'no answer'})`;
    case 'unknown':
      return `cannot tell what it is (${n.detail ?? 'no detail'})`;
    case 'other-ca':
      return `answers with a certificate of another CA than the talosconfig's (${n.detail ?? 'no detail'})`;
    case 'configured':
      return n.unread ? `${n.unread.problem}; fix: ${n.unread.fix}` : undefined;
    default:
      return undefined;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return url;
  }
}

/**
 * talosctl's own checks (pkg/cluster/check/etcd.go): EtcdConsistentAssertion — every control plane reports the
 * same members (hostname, id, learner flag); EtcdControlPlaneNodesAssertion — every member's peer URL is a
 * control-plane address. Here a member is accounted for by a visible control plane whose own member id it is,
 * or whose address is its peer URL's host.
 */
function membershipProblems(cps: NodeObservation[]): Problem[] {
  const problems: Problem[] = [];
  const lists = cps.filter((n) => n.memberList !== undefined);
  const key = (m: MemberSeen) => `${m.id}/${m.hostname}/${m.isLearner}`;
  const first = lists[0];
  if (first) {
    const reference = new Set((first.memberList as MemberSeen[]).map(key));
    for (const n of lists.slice(1)) {
      const mine = n.memberList as MemberSeen[];
      const same = mine.length === reference.size && mine.every((m) => reference.has(key(m)));
      if (!same) {
        const show = (l: MemberSeen[]) => l.map((m) => `${m.hostname}${m.isLearner ? ' (learner)' : ''}`).join(', ');
        problems.push({ node: n.name, address: n.address, problem: `its etcd member list (${show(mine)}) differs from ${first.name}'s (${show(first.memberList as MemberSeen[])})` });
      }
    }
  }
  const all = new Map<string, MemberSeen>();
  for (const n of lists) for (const m of n.memberList as MemberSeen[]) all.set(m.id, m);
  const ownIds = new Set(cps.map((n) => n.etcdMemberId).filter((id): id is string => id !== undefined));
  const cpAddresses = new Set(cps.map((n) => n.address));
  for (const m of all.values()) {
    if (ownIds.has(m.id) || m.peerUrls.some((u) => cpAddresses.has(hostOf(u)))) continue;
    problems.push({
      node: `member ${hexMemberId(m.id)}`,
      problem: `etcd member "${m.hostname}" (peer ${m.peerUrls.join(', ') || 'none'}${m.isLearner ? ', learner' : ''}) is not any visible control plane: a node missing from the node list, or a stale member (talosctl etcd remove-member)`,
    });
  }
  return problems;
}

export function clusterVerdict(nodes: NodeObservation[]): ClusterVerdict {
  const seenAtAll = nodes.filter((n) => n.reach !== 'unreachable');
  if (nodes.length > 0 && seenAtAll.length === 0) {
    const problems = nodes.map((n) => ({ node: n.name, address: n.address, problem: unseenProblem(n) as string }));
    return { kind: 'unreachable', problems, text: `could not see the cluster: no node answered (${problems.map((p) => `${p.node}: ${p.problem}`).join('; ')})` };
  }
  const foreign = nodes.filter((n) => n.reach === 'other-ca');
  const ours = nodes.filter((n) => n.reach === 'configured');
  if (foreign.length > 0 && ours.length === 0) {
    const problems = foreign.map((n) => ({ node: n.name, address: n.address, problem: unseenProblem(n) as string }));
    return {
      kind: 'wrong-cluster',
      problems,
      text: `wrong cluster: ${foreign.map((n) => n.name).join(', ')} answer with certificates of another CA than the talosconfig's; the talosconfig (or its context) is for another cluster`,
    };
  }
  const cps = nodes.filter((n) => isControlPlaneRole(n.role));
  // Any node not seen with its config, control plane or not, keeps the cluster from being healthy.
  const unseen: Problem[] = nodes.flatMap((n) => {
    const why = unseenProblem(n);
    return why ? [{ node: n.name, address: n.address, problem: why }] : [];
  });
  if (cps.length === 0) {
    return { kind: 'unknown', problems: unseen, text: `no control plane seen with its config${unseen.length > 0 ? `; ${unseen.map((p) => `${p.node}: ${p.problem}`).join('; ')}` : ''}` };
  }
  const views = cps.filter((n) => n.etcdMembers !== undefined).map((n) => ({ address: n.name, memberIds: n.etcdMembers as string[] }));
  const one = oneCluster(views);
  if (one.kind === 'split') {
    return {
      kind: 'split',
      sides: one.groups,
      problems: [],
      text: `SPLIT BRAIN: ${one.groups.length} etcd clusters (${one.groups.map((g) => g.join('+')).join(' vs ')}); stop here and recover etcd from the side to keep (talosctl etcd snapshot, reset the others)`,
    };
  }
  const running = cps.filter((n) => n.etcdState === 'Running');
  if (running.length === 0) {
    // A node that did not answer and whose role nobody told us may be a control plane running etcd.
    const hidden = (n: NodeObservation) => n.reach === 'unreachable' || n.reach === 'unknown' || n.reach === 'other-ca';
    const cannotSee = nodes.filter((n) => (isControlPlaneRole(n.role) ? n.reach !== 'configured' || n.etcdState === undefined : n.role === undefined && hidden(n)));
    if (cannotSee.length > 0) return { kind: 'unknown', problems: unseen, text: `no etcd seen running; cannot see ${cannotSee.map((n) => n.name).join(', ')}` };
    return { kind: 'not-bootstrapped', problems: [], text: `not bootstrapped: no control plane runs etcd yet (${cps.length} waiting)` };
  }
  const members = new Set(one.memberIds);
  const learners = new Set(cps.flatMap((n) => (n.memberList ?? []).filter((m) => m.isLearner).map((m) => m.id)));
  const problems: Problem[] = [...unseen];
  let joining = 0;
  for (const n of cps) {
    if (n.reach !== 'configured') continue; // named above
    const at = { node: n.name, address: n.address };
    if (n.etcdState !== 'Running') {
      problems.push({ ...at, problem: `etcd ${n.etcdState ?? 'state unknown'} (not running)${n.detail ? `; ${n.detail}` : ''}` });
      joining++;
    } else if (n.etcdMembers === undefined || n.etcdMemberId === undefined) {
      problems.push({ ...at, problem: `etcd runs, but its membership could not be read${n.detail ? ` (${n.detail})` : ''}` });
    } else if (!members.has(n.etcdMemberId)) {
      problems.push({ ...at, problem: `etcd runs, but its member id ${hexMemberId(n.etcdMemberId)} is not in the member list` });
    } else if (learners.has(n.etcdMemberId)) {
      problems.push({ ...at, problem: `etcd learner (member ${hexMemberId(n.etcdMemberId)} not yet promoted to a voting member)` });
    }
  }
  problems.push(...membershipProblems(cps));
  const joined = cps.length - problems.filter((p) => cps.some((n) => n.name === p.node)).length;
  if (problems.length === 0) {
    return { kind: 'healthy', problems, text: `healthy single cluster: ${plural(cps.length, 'control plane')}, all voting members of one etcd cluster of ${plural(members.size, 'member')}` };
  }
  const list = problems.map((p) => `${p.node}: ${p.problem}`).join('; ');
  if (joining === problems.length) {
    return { kind: 'bootstrapping', problems, text: `bootstrapping: etcd runs on ${running.length}/${cps.length} control planes; waiting for ${problems.map((p) => p.node).join(', ')}` };
  }
  return { kind: 'degraded', problems, text: `degraded: ${joined}/${cps.length} control planes healthy members of one etcd cluster; ${list}` };
}

/** A verdict's exit code: only a healthy cluster is success; a split brain is 3 (refused for safety). */
export function verdictExitCode(kind: ClusterKind): 0 | 1 | 3 {
  return kind === 'healthy' ? 0 : kind === 'split' ? 3 : 1;
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
  if (n.reach === 'unknown' || n.reach === 'other-ca') {
    return { ...base, state: `cannot tell what it is (${n.detail ?? 'no detail'})`, next: `check that ${n.address} is a node of this cluster and that the talosconfig is this cluster's: talosctl -n ${n.address} version` };
  }
  if (n.unread) return { ...base, state: `has its config, but ${n.unread.problem}`, next: n.unread.fix };
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
