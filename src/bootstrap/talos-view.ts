// The runner's window on the cluster: discovery rounds, this node's member list, its Bootstrap call,
// and the per-node etcd views used to confirm one cluster. All network I/O of the runner lives here.
import { status } from '@grpc/grpc-js';
import type { Config } from '../config.ts';
import { startDiscovery, type DiscoveryResult } from '../discovery/discover.ts';
import { inspectPeer, type InspectOptions } from '../discovery/inspect-peer.ts';
import { controlPlaneAddresses, isControlPlaneMember } from '../discovery/members.ts';
import type { MembersWatch } from '../discovery/members-watch.ts';
import { discoveryPlan } from '../discovery/targets.ts';
import { ConnectPool } from '../discovery/connect-pool.ts';
import { probeTcp, type ConnectResult } from '../discovery/tcp-probe.ts';
import type { IPv4Prefix } from '../util/ipv4.ts';
import type { ClientIdentities } from '../pki/client-identities.ts';
import { mutualTlsCredentials, type ClientIdentity } from '../talos/channel.ts';
import { memberListOutcome } from '../talos/error-class.ts';
import { localMemberId } from '../talos/machine-state.ts';
import { NodeClient, TalosCallError } from '../talos/node-client.ts';
import { ETCD_LOCAL_MEMBER, ETCD_SERVICE_ID, SERVICES } from '../talos/resources.ts';
import type { Candidate, NodeIdentity } from '../model/candidate.ts';
import { SYSTEM_CLOCK, type MonotonicClock } from '../model/clock.ts';
import type { MemberListResult, Observation } from './core/observation.ts';

/**
 * EtcdMemberList{query_local:false} waits for any etcd endpoint to be ready until the caller's deadline,
 * so every call before a bootstrap lasts exactly this long. Twice the probe timeout, at least a second.
 */
export function memberListDeadlineMs(scanTimeoutMs: number): number {
  return Math.max(1_000, 2 * scanTimeoutMs);
}
/** Per-node membership checks after a bootstrap talk to a running local etcd and answer quickly. */
export const MEMBER_VIEW_DEADLINE_MS = 5_000;
/** Bootstrap returns once etcd is told to start; a generous deadline, then the result is re-checked. */
export const BOOTSTRAP_DEADLINE_MS = 30_000;

export interface LocalEtcd {
  running: boolean;
  healthy: boolean;
  /** Decimal, as EtcdMemberList gives member ids. */
  memberId: string | undefined;
  detail: string;
}

export interface EtcdView {
  address: string;
  memberIds: string[] | undefined;
  error: string | undefined;
}

/** What the members source contributed to a round. */
export type MembersStatus =
  | { kind: 'off' }
  | { kind: 'known'; members: number; controlPlaneAddresses: number; via: 'watch' | 'list'; /** Distinct control-plane members, this node included. */ controlPlaneMembers?: number }
  | { kind: 'unknown'; reason: string };

export interface Round {
  /** memberList is `pending` when the member list had not answered by the time discovery finished. */
  observation: Observation;
  discovery: DiscoveryResult;
  /** How long probing took (all sources, scan included), for the round's log line. */
  discoveryMs: number;
  members: MembersStatus;
  /** The member list's own outcome, for a runner that needs it before deciding. */
  memberList: Promise<MemberListResult>;
  /** Taken before every probe ended (to arm early); `complete` gives the whole round. */
  partial: boolean;
  /** The whole round: this one itself, unless it was taken early, before the scan ended. */
  complete: Promise<Round>;
}

export interface DiscoverySources {
  /** Probes in flight per pool: SCAN_CONCURRENCY within the open-file limit. */
  concurrency: number;
  members: MembersWatch | undefined;
  /** The scan's prefixes (configured or detected); empty when the scan is off or found nothing to scan. */
  scanPrefixes: IPv4Prefix[];
}

export class TalosView {
  /** Bare sockets polled together where libc is at hand; node:net otherwise. */
  private readonly connectPool = ConnectPool.create();

  constructor(
    private readonly config: Config,
    private readonly self: string,
    private readonly identities: ClientIdentities,
    private readonly sources: DiscoverySources,
    /** This node as its local apid names it (src/bootstrap/self-check.ts). */
    private readonly local: { identity: NodeIdentity; apidAddress: string },
    private readonly clock: MonotonicClock = SYSTEM_CLOCK,
  ) {}

  private inspectOptions(identity: ClientIdentity): InspectOptions {
    return {
      port: this.config.apidPort,
      timeoutMs: this.config.scanTimeoutMs,
      identity,
      credentials: (address, fingerprint) => mutualTlsCredentials(address, identity, fingerprint),
      now: () => this.clock.now(),
    };
  }

  /**
   * The final evidence: the given control planes inspected again, each at its address, now. Returns the
   * fresh candidates (merged by identity), or a reason when one of them did not answer as before.
   */
  async recheck(controlPlanes: readonly Candidate[]): Promise<{ kind: 'fresh'; controlPlanes: Candidate[] } | { kind: 'failed'; reason: string }> {
    const opts = this.inspectOptions(this.identities.reader());
    const fresh = await Promise.all(controlPlanes.map(async (c) => ({ before: c, now: await inspectPeer(c.address, opts) })));
    const out: Candidate[] = [];
    for (const { before, now } of fresh) {
      if (now.kind !== 'candidate') return { kind: 'failed', reason: `${before.address} (${before.hostname}): ${now.reason}` };
      if (now.candidate.identity !== before.identity) return { kind: 'failed', reason: `${before.address} now answers as another node (${now.candidate.identity})` };
      out.push({ ...now.candidate, ...(before.aliases ? { aliases: before.aliases } : {}), ...(before.certAddresses ? { certAddresses: before.certAddresses } : {}) });
    }
    return { kind: 'fresh', controlPlanes: out };
  }

  private connect(address: string): Promise<ConnectResult> {
    const { apidPort, scanTimeoutMs } = this.config;
    return this.connectPool ? this.connectPool.connect(address, apidPort, scanTimeoutMs) : probeTcp(address, apidPort, scanTimeoutMs);
  }

  private client(address: string, identity: ClientIdentity, deadlineMs = this.config.scanTimeoutMs): NodeClient {
    return new NodeClient(address, this.config.apidPort, mutualTlsCredentials(address, identity), deadlineMs);
  }

  /** The member list's deadline: before a bootstrap the query answers only when it passes. */
  get memberListDeadlineMs(): number {
    return memberListDeadlineMs(this.config.scanTimeoutMs);
  }

  /** Starts EtcdMemberList{query_local:false} now; the result never rejects. */
  startMemberList(): Promise<MemberListResult> {
    try {
      return this.memberList(this.identities.reader());
    } catch (e) {
      // Minting the reader certificate failed: no question was asked, so nothing is known about etcd.
      return Promise.resolve({ kind: 'no-answer', message: e instanceof Error ? e.message : String(e) });
    }
  }

  /**
   * One round. The member list runs alongside (or was started earlier by the caller, see the runner's
   * settle period); discovery's outcome does not wait for it.
   */
  async observe(memberList: Promise<MemberListResult> = this.startMemberList(), takeEarly?: (partial: Observation) => boolean): Promise<Round> {
    const identity = this.identities.reader();
    let settled: MemberListResult | undefined;
    void memberList.then(
      (r) => (settled = r),
      () => undefined,
    );
    const members = await this.membersStatus();
    const plan = discoveryPlan(this.config, this.self, members.addresses, this.sources.scanPrefixes);
    const inspect = this.inspectOptions(identity);
    const started = this.clock.now();
    const roundOf = (discovery: DiscoveryResult, complete: Promise<Round> | undefined): Round => {
      const round: Round = {
        discovery,
        discoveryMs: this.clock.now() - started,
        members: members.status,
        memberList,
        observation: {
          selfAddress: this.self,
          selfIdentity: this.local.identity,
          controlPlanes: discovery.controlPlanes,
          others: discovery.others,
          rejected: discovery.rejected,
          memberList: settled ?? { kind: 'pending' },
        },
        partial: complete !== undefined,
        complete: Promise.resolve(undefined as unknown as Round),
      };
      round.complete = complete ?? Promise.resolve(round);
      return round;
    };

    // A caller may take the round before the scan ends, as soon as the named targets are in and what has
    // been found so far satisfies it (the runner: enough to arm). The rest of the round still completes.
    let early: ((r: Round) => void) | undefined;
    const earlyRound = new Promise<Round>((resolve) => (early = resolve));
    let namedIn = false;
    const offer = () => {
      if (!takeEarly || !namedIn || !early) return;
      const candidate = roundOf(run.partial(), full);
      if (!takeEarly(candidate.observation)) return;
      const resolve = early;
      early = undefined;
      resolve(candidate);
    };
    const run = startDiscovery(plan, this.sources.concurrency, { connect: (address) => this.connect(address), inspect: (address) => inspectPeer(address, inspect) }, offer);
    const full = run.done.then((d) => roundOf(d, undefined));
    run.namedDone.then(
      () => {
        namedIn = true;
        offer();
      },
      () => undefined,
    );
    return Promise.race([full, earlyRound]);
  }

  private async membersStatus(): Promise<{ status: MembersStatus; addresses: string[] }> {
    const watch = this.sources.members;
    if (!watch || !this.config.discovery.includes('members')) return { status: { kind: 'off' }, addresses: [] };
    const snap = await watch.snapshot();
    if (snap.kind === 'unknown') return { status: snap, addresses: [] };
    const addresses = controlPlaneAddresses(snap.members, this.self);
    const controlPlaneMembers = snap.members.filter(isControlPlaneMember).length;
    return { status: { kind: 'known', members: snap.members.length, controlPlaneAddresses: addresses.length, via: snap.via, controlPlaneMembers }, addresses };
  }

  private async memberList(identity: ClientIdentity): Promise<MemberListResult> {
    const deadlineMs = memberListDeadlineMs(this.config.scanTimeoutMs);
    const client = this.client(this.self, identity, deadlineMs);
    try {
      const members = await client.etcdMembers(false);
      return { kind: 'ok', memberIds: members.map((m) => m.id) };
    } catch (e) {
      if (!(e instanceof TalosCallError)) return { kind: 'no-answer', message: String(e) };
      if (e.code === status.DEADLINE_EXCEEDED) return { kind: 'timed-out', message: `no etcd answered within ${deadlineMs}ms` };
      // No error says "no etcd": each is kept for the log and counts for nothing (memberListOutcome).
      return memberListOutcome(e.code) === 'answered-error' ? { kind: 'failed', message: e.details } : { kind: 'no-answer', message: e.message };
    } finally {
      client.close();
    }
  }

  /**
   * Calls Bootstrap on this node's own apid (the local address, never NODE_IP) with the os:admin
   * certificate. Throws TalosCallError on failure.
   */
  async bootstrapSelf(): Promise<void> {
    const client = this.client(this.local.apidAddress, this.identities.admin(), BOOTSTRAP_DEADLINE_MS);
    try {
      await client.bootstrap();
    } finally {
      client.close();
    }
  }

  async localEtcd(): Promise<LocalEtcd> {
    const client = this.client(this.local.apidAddress, this.identities.reader());
    try {
      const [service, member] = await Promise.all([client.getResource(SERVICES, ETCD_SERVICE_ID), client.getResource(ETCD_LOCAL_MEMBER)]);
      const spec = (service?.spec ?? {}) as { running?: boolean; healthy?: boolean };
      return {
        running: spec.running === true,
        healthy: spec.healthy === true,
        memberId: localMemberId(member),
        detail: service ? `etcd running=${spec.running === true} healthy=${spec.healthy === true}` : 'etcd service not started',
      };
    } catch (e) {
      return { running: false, healthy: false, memberId: undefined, detail: `cannot read local etcd state: ${e instanceof Error ? e.message : String(e)}` };
    } finally {
      client.close();
    }
  }

  /** Each node's own etcd membership (query_local), to tell one cluster from two. */
  async etcdViews(addresses: string[]): Promise<EtcdView[]> {
    const identity = this.identities.reader();
    return Promise.all(
      addresses.map(async (address) => {
        const client = this.client(address, identity, MEMBER_VIEW_DEADLINE_MS);
        try {
          const members = await client.etcdMembers(true);
          return { address, memberIds: members.map((m) => m.id).sort(), error: undefined };
        } catch (e) {
          return { address, memberIds: undefined, error: e instanceof Error ? e.message : String(e) };
        } finally {
          client.close();
        }
      }),
    );
  }
}
