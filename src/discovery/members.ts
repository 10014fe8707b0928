// Talos cluster-discovery members (Members.cluster.talos.dev, namespace `cluster`) as plain data, and the
// pure bookkeeping of a kind Watch over them. A member's spec is Talos's MemberSpec as YAML:
// nodeId, addresses, hostname, machineType (init/controlplane/worker/unknown), operatingSystem and, on
// control planes, controlPlane.port. The list includes this node itself.
import { isIPv4 } from '../util/ipv4.ts';

export const MEMBERS = { namespace: 'cluster', type: 'Members.cluster.talos.dev' } as const;

export interface Member {
  id: string;
  hostname: string;
  machineType: string;
  /** IPv4 addresses only: the daemon speaks IPv4 (IPv6 and KubeSpan's addresses are ignored). */
  addresses: string[];
}

/** COSI event types by their proto names (cosi.resource.EventType). */
export type EventType = 'CREATED' | 'UPDATED' | 'DESTROYED' | 'BOOTSTRAPPED' | 'ERRORED' | 'NOOP';

export interface MemberEvent {
  type: EventType;
  id: string;
  /** The parsed yaml_spec (null for tombstones). */
  spec: unknown;
  error?: string;
}

export function parseMember(id: string, spec: unknown): Member | undefined {
  if (spec === null || typeof spec !== 'object') return undefined;
  const s = spec as { addresses?: unknown; hostname?: unknown; machineType?: unknown };
  const addresses = Array.isArray(s.addresses) ? s.addresses.map(String).filter(isIPv4) : [];
  return {
    id,
    hostname: typeof s.hostname === 'string' ? s.hostname : '',
    machineType: typeof s.machineType === 'string' ? s.machineType : 'unknown',
    addresses: [...new Set(addresses)],
  };
}

export function isControlPlaneMember(m: Member): boolean {
  return m.machineType === 'controlplane' || m.machineType === 'init';
}

/** Addresses to probe: every IPv4 address of every control-plane member, except this node's own. */
export function controlPlaneAddresses(members: Iterable<Member>, self: string): string[] {
  const out = new Set<string>();
  for (const m of members) {
    if (!isControlPlaneMember(m) || m.addresses.includes(self)) continue;
    for (const a of m.addresses) out.add(a);
  }
  return [...out];
}

/**
 * What one Watch stream has taught so far. `synced` is set by BOOTSTRAPPED, which ends the initial contents
 * (bootstrap_contents): before it, the map is only part of the truth.
 */
export interface WatchState {
  members: Map<string, Member>;
  synced: boolean;
}

export function emptyWatchState(): WatchState {
  return { members: new Map(), synced: false };
}

export type ApplyResult = { kind: 'ok' } | { kind: 'failed'; reason: string };

/** Applies one event in place. ERRORED means the server lost events: the stream must be started again. */
export function applyMemberEvent(state: WatchState, event: MemberEvent): ApplyResult {
  switch (event.type) {
    case 'CREATED':
    case 'UPDATED': {
      const m = parseMember(event.id, event.spec);
      if (m) state.members.set(event.id, m);
      else state.members.delete(event.id);
      return { kind: 'ok' };
    }
    case 'DESTROYED':
      state.members.delete(event.id);
      return { kind: 'ok' };
    case 'BOOTSTRAPPED':
      state.synced = true;
      return { kind: 'ok' };
    case 'ERRORED':
      return { kind: 'failed', reason: `watch error from the server: ${event.error ?? 'unspecified'}` };
    case 'NOOP':
      return { kind: 'ok' };
  }
}

/** Addresses in `after` that `before` did not have: news worth a discovery round at once. */
export function newAddresses(before: readonly string[], after: readonly string[]): string[] {
  const had = new Set(before);
  return after.filter((a) => !had.has(a));
}
