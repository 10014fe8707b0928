// The runner's window on the simulated cluster: RunnerIO (src/bootstrap/runner.ts) over the simulated Talos
// nodes, in the shape TalosView (src/bootstrap/talos-view.ts) gives it. Each peer's facts are read at the
// moment its answer arrives, so a round's evidence has the ages it has on a real network. A daemon instance
// that has died gets no more answers: its pending calls never settle, as in a killed process.
import { status } from '@grpc/grpc-js';
import type { Candidate, MemberListResult, Observation } from '../../src/bootstrap/core/observation.ts';
import type { RunnerIO } from '../../src/bootstrap/runner.ts';
import { BOOTSTRAP_DEADLINE_MS, memberListDeadlineMs, type EtcdView, type LocalEtcd, type MembersStatus, type Round } from '../../src/bootstrap/talos-view.ts';
import type { Config } from '../../src/config.ts';
import { emptyCounts } from '../../src/discovery/discover.ts';
import { TalosCallError } from '../../src/talos/node-client.ts';
import type { Network } from './network.ts';
import type { Rng } from './random.ts';
import { candidateOf, memberIdOf, membersOf, type DaemonInstance, type SimNode } from './sim-node.ts';
import type { VirtualTime } from './virtual-time.ts';

/** A Talos API answer to Bootstrap: accepted, or the gRPC error machined returns. */
export type BootstrapAnswer = { ok: true } | { ok: false; code: number; details: string };

/** What the runner's I/O needs of the simulated world. */
export interface SimTalos {
  vt: VirtualTime;
  net: Network;
  rng: Rng;
  nodes: readonly SimNode[];
  /** Talos's Bootstrap as machined handles it on `n` (see world.ts). */
  bootstrap(n: SimNode): BootstrapAnswer;
  /** Counts a Bootstrap answer lost on its way back. */
  answerLost(): void;
}

/** While the faults last, this share of Bootstrap answers is lost on the way back (the outcome is unknown). */
const BOOTSTRAP_REPLY_LOSS = 0.1;
/** A call to this node's own apid: a few ms. */
const LOCAL_CALL_MS: [number, number] = [1, 20];

export class SimIO implements RunnerIO {
  readonly memberListDeadlineMs: number;

  constructor(
    private readonly w: SimTalos,
    private readonly n: SimNode,
    private readonly d: DaemonInstance,
    private readonly config: Config,
  ) {
    this.memberListDeadlineMs = memberListDeadlineMs(config.scanTimeoutMs);
  }

  startMemberList(): Promise<MemberListResult> {
    // EtcdMemberList{query_local:false}: answers at once through a reachable running etcd; before a bootstrap
    // only at its deadline.
    const wait = this.reachableCluster() !== undefined ? this.w.rng.int(...LOCAL_CALL_MS) : this.n.clock.toGlobal(this.memberListDeadlineMs);
    return this.later(wait, () => {
      const cluster = this.reachableCluster();
      return cluster === undefined ? { kind: 'timed-out', message: 'context deadline exceeded' } : { kind: 'ok', memberIds: membersOf(this.w.nodes, cluster) };
    });
  }

  /**
   * One round. Every target here is a named one (this node, the static peers, members), and TalosView offers a
   * partial round only once every named target has been inspected (src/discovery/discover.ts `namedDone`), so
   * a round is never taken early here: `takeEarly` is never satisfiable before the round is whole.
   */
  observe(memberList?: Promise<MemberListResult>): Promise<Round> {
    const { vt, net, nodes } = this.w;
    const started = this.n.clock.now();
    const list = memberList ?? this.startMemberList();
    let listed: MemberListResult | undefined;
    void list.then((v) => (listed = v));
    const answered: Candidate[] = [];
    return new Promise<Round>((resolve) => {
      let done = false;
      const finish = () => {
        if (done || !this.d.alive) return;
        done = true;
        resolve(this.round(started, answered, list, listed));
      };
      // Every configured address is probed; one that does not answer ends at the timeout.
      for (const p of nodes) this.ask(p, (c) => {
        if (done) return;
        answered.push(c);
        if (answered.length === nodes.length) finish();
      });
      vt.after(this.n.clock.toGlobal(this.config.scanTimeoutMs), finish);
    });
  }

  recheck(controlPlanes: readonly Candidate[]): Promise<{ kind: 'fresh'; controlPlanes: Candidate[] } | { kind: 'failed'; reason: string }> {
    const { vt, nodes } = this.w;
    return new Promise((resolve) => {
      const fresh = new Map<string, Candidate>();
      let done = false;
      for (const c of controlPlanes) {
        const p = nodes.find((x) => x.id === c.identity);
        if (!p) continue;
        this.ask(p, (answer) => {
          if (done) return;
          fresh.set(c.identity, answer);
          if (fresh.size < controlPlanes.length) return;
          done = true;
          resolve({ kind: 'fresh', controlPlanes: controlPlanes.map((x) => fresh.get(x.identity) as Candidate) });
        });
      }
      vt.after(this.n.clock.toGlobal(this.config.scanTimeoutMs), () => {
        if (done || !this.d.alive) return;
        done = true;
        const missing = controlPlanes.find((c) => !fresh.has(c.identity));
        resolve({ kind: 'failed', reason: missing ? `${missing.address} (${missing.hostname}): no answer within ${this.config.scanTimeoutMs}ms` : 'no control plane to ask' });
      });
    });
  }

  /**
   * Inspects `p` through its apid: the request reaches it after a first hop, where its facts are read; the
   * answer reaches this node after a second hop, so the evidence is as old as the way back. Either hop may be
   * blocked (no answer). `answer` runs on arrival, only while this daemon instance lives.
   */
  private ask(p: SimNode, answer: (c: Candidate) => void): void {
    const { vt, net, rng } = this.w;
    const total = net.answerDelay(this.config.scanTimeoutMs);
    const there = rng.int(0, total);
    vt.after(there, () => {
      if (!this.d.alive || !(p === this.n || (p.up && net.link(this.n, p)))) return;
      const facts = candidateOf(p, 0);
      vt.after(total - there, () => {
        if (!this.d.alive || !net.link(p, this.n)) return;
        answer({ ...facts, answeredAt: this.n.clock.now() });
      });
    });
  }

  bootstrapSelf(): Promise<void> {
    const { vt, net, rng } = this.w;
    const boot = this.n.boot;
    const calledAt = vt.now;
    return new Promise<void>((resolve, reject) => {
      vt.after(rng.int(...LOCAL_CALL_MS), () => {
        // machined acts on a call that reached it even if the daemon that made it has died since.
        if (!this.n.up || this.n.boot !== boot) return;
        const answer = this.w.bootstrap(this.n);
        // machined answers when its new etcd runner is in place: until then peers read Finished "Bootstrap requested".
        if (answer.ok) this.n.etcd.inBootstrapCall = true;
        const answered = rng.int(...LOCAL_CALL_MS);
        vt.after(answered, () => {
          if (this.n.boot === boot) this.n.etcd.inBootstrapCall = false;
        });
        if (!net.healed && rng.chance(BOOTSTRAP_REPLY_LOSS)) {
          this.w.answerLost();
          const deadline = calledAt + this.n.clock.toGlobal(BOOTSTRAP_DEADLINE_MS);
          vt.at(deadline, () => this.d.alive && reject(new TalosCallError('Bootstrap', status.DEADLINE_EXCEEDED, 'context deadline exceeded')));
          return;
        }
        vt.after(answered, () => {
          if (!this.d.alive) return;
          if (answer.ok) resolve();
          else reject(new TalosCallError('Bootstrap', answer.code, answer.details));
        });
      });
    });
  }

  localEtcd(): Promise<LocalEtcd> {
    return this.later(this.w.rng.int(...LOCAL_CALL_MS), () => {
      const e = this.n.etcd;
      const memberId = e.running && e.data !== undefined ? memberIdOf(this.n, e.data) : undefined;
      const detail = e.running ? 'Running' : e.inBootstrapCall ? 'Finished: Bootstrap requested' : 'Preparing: Running pre state';
      return { running: e.running, healthy: e.running, memberId, detail };
    });
  }

  etcdViews(addresses: string[]): Promise<EtcdView[]> {
    const { net, nodes } = this.w;
    return this.later(net.answerDelay(this.config.scanTimeoutMs), () =>
      addresses.map((address) => {
        const p = nodes.find((x) => x.address === address);
        if (!p || !(p === this.n || net.reaches(this.n, p))) return { address, memberIds: undefined, error: 'no answer' };
        if (!p.etcd.running || p.etcd.data === undefined) return { address, memberIds: undefined, error: 'etcd is not running' };
        return { address, memberIds: membersOf(nodes, p.etcd.data), error: undefined };
      }),
    );
  }

  /** `f()` after `delay` global ms, if this daemon instance still lives; never settles otherwise. */
  private later<T>(delay: number, f: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      this.w.vt.after(delay, () => {
        if (this.d.alive) resolve(f());
      });
    });
  }

  /** The cluster of a running etcd this node reaches (its own included), if any. */
  private reachableCluster(): string | undefined {
    const p = this.w.nodes.find((x) => x.etcd.running && x.etcd.data !== undefined && (x === this.n || this.w.net.reaches(this.n, x)));
    return p?.etcd.data;
  }

  /**
   * With members discovery on, the discovery service lists every node that registered (it is outside the
   * cluster's network, so partitions between nodes do not hide anyone); off, TalosView reports `off`.
   */
  private members(): MembersStatus {
    if (!this.config.discovery.includes('members')) return { kind: 'off' };
    const k = this.w.nodes.filter((p) => p.boot > 0).length;
    return { kind: 'known', members: k, controlPlaneAddresses: k, via: 'watch', controlPlaneMembers: k };
  }

  private round(started: number, answered: readonly Candidate[], list: Promise<MemberListResult>, listed: MemberListResult | undefined): Round {
    const controlPlanes = [...answered];
    const silent = this.w.nodes.filter((p) => !controlPlanes.some((c) => c.identity === p.id)).map((p) => ({ address: p.address, reason: 'no answer' }));
    const observation: Observation = { selfAddress: this.n.address, selfIdentity: this.n.id, controlPlanes, others: [], rejected: silent, memberList: listed ?? { kind: 'pending' } };
    // Counted as TalosView counts them: this node through its own apid, every peer as a static address.
    const counts = emptyCounts();
    const selfAnswered = controlPlanes.some((c) => c.identity === this.n.id) ? 1 : 0;
    counts.self = { probed: 1, answered: selfAnswered, controlPlanes: selfAnswered };
    counts.static = { probed: this.w.nodes.length - 1, answered: controlPlanes.length - selfAnswered, controlPlanes: controlPlanes.length - selfAnswered };
    const round: Round = {
      observation,
      discovery: { controlPlanes, others: [], rejected: silent, untrusted: [], counts },
      discoveryMs: this.n.clock.now() - started,
      members: this.members(),
      memberList: list,
      partial: false,
      complete: Promise.resolve(undefined as unknown as Round),
    };
    round.complete = Promise.resolve(round);
    return round;
  }
}
