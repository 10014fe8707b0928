// A simulated Talos control plane as the deterministic simulation holds it: boot, etcd (its data directory,
// an accepted Bootstrap held in memory, running), the durable acceptor state on its disk, and the daemon
// instance that runs on it. What a peer reads of it is `candidateOf`: Talos's evidence, as apid serves it.
import type { AgreementRuntime } from '../../src/agreement/runtime.ts';
import type { Candidate } from '../../src/bootstrap/core/observation.ts';
import type { DurableState } from '../../src/agreement/core/state.ts';
import { BOOTSTRAP_REQUESTED } from '../../src/model/etcd-evidence.ts';
import type { Wakeup } from '../../src/util/wakeup.ts';
import type { NodeClock } from './virtual-time.ts';

export interface Etcd {
  /** The cluster its data directory belongs to; undefined while empty. */
  data: string | undefined;
  /** Talos accepted a Bootstrap and holds it in memory until etcd starts. */
  pending: boolean;
  /** An accepted Bootstrap call has not returned yet: the only time Talos shows Finished "Bootstrap requested". */
  inBootstrapCall: boolean;
  running: boolean;
  /** Global ms at which a join under way completes (image pull, member add); undefined when not joining. */
  joinAt: number | undefined;
}

/** One run of `autobootstrap run` on a node, from its start to its exit, crash or the node's reboot. */
export interface DaemonInstance {
  alive: boolean;
  stop: AbortController;
  runtime: AgreementRuntime | undefined;
  /** The runner's doorbell: the members watch rings it when a new control plane registers. */
  wakeup: Wakeup | undefined;
}

export interface SimNode {
  index: number;
  /** Talos's node identity. */
  id: string;
  /** NODE_IP, and the address its apid and agreement port answer at. */
  address: string;
  clock: NodeClock;
  up: boolean;
  /** Changes on every reboot; events of an older boot are ignored. */
  /** Boots so far; a node is registered with the discovery service from its first (kept across reboots within the affiliate TTL). */
  boot: number;
  /** SystemStat.boot_time, Unix seconds. */
  bootTime: number;
  etcd: Etcd;
  /** The acceptor state file; undefined until first written. */
  disk: DurableState | undefined;
  daemon: DaemonInstance | undefined;
  /** The service exited 0 this boot (Talos: Finished; not restarted until the next boot). */
  finished: boolean;
  /** Not up before the heal: never boots (q < N: the control plane that never boots), or only late. */
  absent: boolean;
  /** An absent node that boots this long after the heal (global ms); undefined: never. */
  lateBootMs: number | undefined;
  /** Gone for good (the chosen node dying in the schedules that test it). */
  gone: boolean;
  /** Global ms from which machined accepts Bootstrap this boot (CRI healthy); before it, FailedPrecondition. */
  readyAt: number;
}

/**
 * What apid serves of `p` right now, as the daemon's inspection turns it into a Candidate
 * (src/model/etcd-evidence.ts): the etcd service Running; Finished "Bootstrap requested" only while the
 * Bootstrap call runs (Talos replaces that service runner before the call returns, services/etcd.go:806-836,
 * test/sim/README.md); otherwise Preparing "Running pre state", also while an accepted Bootstrap waits in
 * memory for etcd to start, exactly as on a node never bootstrapped; and the data directory as it is.
 */
export function candidateOf(p: SimNode, answeredAt: number): Candidate {
  return {
    address: p.address,
    identity: p.id,
    defaultAddress: p.address,
    hostname: p.id,
    bootTime: BigInt(p.bootTime),
    machineType: 'controlplane',
    stage: 'running',
    etcd: {
      service: p.etcd.running
        ? { kind: 'running', fact: { state: 'Running', lastEvent: '' } }
        : p.etcd.inBootstrapCall
          ? { kind: 'bootstrap-requested', fact: { state: 'Finished', lastEvent: BOOTSTRAP_REQUESTED } }
          : { kind: 'not-running', fact: { state: 'Preparing', lastEvent: 'Running pre state' } },
      dataDir: p.etcd.data === undefined ? { kind: 'empty' } : { kind: 'has-data', entries: ['member'] },
    },
    answeredAt,
  };
}

/** etcd member id of `p` (decimal, as EtcdMemberList gives it): fixed per node and cluster. */
export function memberIdOf(p: SimNode, cluster: string): string {
  let h = 0;
  for (const ch of `${cluster}/${p.id}`) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return String(h + 1);
}

/** The member ids of `cluster`: every node whose data directory belongs to it. */
export function membersOf(nodes: readonly SimNode[], cluster: string): string[] {
  return nodes.filter((n) => n.etcd.data === cluster).map((n) => memberIdOf(n, cluster));
}
