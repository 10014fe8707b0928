// The runner's window on the cluster: discovery rounds, this node's member list, its Bootstrap call,
// and the per-node etcd views used to confirm one cluster. All network I/O of the runner lives here.
import { status } from '@grpc/grpc-js';
import type { Config } from '../config.ts';
import { discover, type DiscoveryResult } from '../discovery/discover.ts';
import { discoveryPlan, type DiscoveryPlan } from '../discovery/targets.ts';
import type { ClientIdentities } from '../pki/client-identities.ts';
import { mutualTlsCredentials, type ClientIdentity } from '../talos/channel.ts';
import { classifyReadError } from '../talos/error-class.ts';
import { localMemberId } from '../talos/machine-state.ts';
import { NodeClient, TalosCallError } from '../talos/node-client.ts';
import { ETCD_LOCAL_MEMBER, ETCD_SERVICE_ID, SERVICES } from '../talos/resources.ts';
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

export class TalosView {
  private readonly plan: DiscoveryPlan;

  constructor(
    private readonly config: Config,
    private readonly self: string,
    private readonly identities: ClientIdentities,
  ) {
    this.plan = discoveryPlan(config, self);
  }

  private client(address: string, identity: ClientIdentity, deadlineMs = this.config.scanTimeoutMs): NodeClient {
    return new NodeClient(address, this.config.apidPort, mutualTlsCredentials(address, identity), deadlineMs);
  }

  async observe(): Promise<{ observation: Observation; discovery: DiscoveryResult }> {
    const identity = this.identities.reader();
    // The member list is asked alongside discovery: before a bootstrap it takes its whole deadline.
    const [discovery, memberList] = await Promise.all([
      discover(this.plan, {
        port: this.config.apidPort,
        timeoutMs: this.config.scanTimeoutMs,
        identity,
        credentials: (address) => mutualTlsCredentials(address, identity),
        concurrency: this.config.scanConcurrency,
      }),
      this.memberList(identity),
    ]);
    return {
      discovery,
      observation: {
        selfAddress: this.self,
        controlPlanes: discovery.controlPlanes,
        others: discovery.others,
        rejected: discovery.rejected,
        memberList,
      },
    };
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
      const outcome = classifyReadError(e.code);
      // Only an answer from apid counts as "failed"; silence or a refusal tells nothing about etcd.
      return outcome === 'failed' || outcome === 'not-found' ? { kind: 'failed', message: e.details } : { kind: 'no-answer', message: e.message };
    } finally {
      client.close();
    }
  }

  /** Calls Bootstrap on this node with the os:admin certificate. Throws TalosCallError on failure. */
  async bootstrapSelf(): Promise<void> {
    const client = this.client(this.self, this.identities.admin(), BOOTSTRAP_DEADLINE_MS);
    try {
      await client.bootstrap();
    } finally {
      client.close();
    }
  }

  async localEtcd(): Promise<LocalEtcd> {
    const client = this.client(this.self, this.identities.reader());
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
