// A deterministic simulation of the whole bootstrap, in the spirit of FoundationDB's simulation testing:
// one process, a virtual clock, a seeded schedule. The agreement core (src/agreement/core/step.ts), the
// runner's decision (src/bootstrap/core/decide.ts) and the bootstrap gate (src/agreement/core/
// bootstrap-gate.ts) are the real code; the runner's loop around them is modelled; the network, Talos (its
// in-memory Bootstrap, etcd's start and join, reboots, boot times) and time are simulated.
//
// Faults: message loss, duplication, reordering and delay; asymmetric partitions (directed links);
// daemon crashes and restarts at any step; node reboots (new boot time, Talos's in-memory Bootstrap lost
// before etcd writes its data directory); etcd taking minutes to start after a Bootstrap; clock-rate drift
// and boot-time steps. Times are scaled down from Talos's (see test/simulation/README.md); their order is
// Talos's.
import { bootstrapGate } from '../../src/agreement/core/bootstrap-gate.ts';
import { decide } from '../../src/bootstrap/core/decide.ts';
import type { Candidate, Observation } from '../../src/bootstrap/core/observation.ts';
import type { Message } from '../../src/agreement/core/messages.ts';
import { majorityOf, type AgreementParams } from '../../src/agreement/core/params.ts';
import { EMPTY_DURABLE, initialState, type AgreementState, type DurableState, type Tunables } from '../../src/agreement/core/state.ts';
import { step, type Faults, type Input } from '../../src/agreement/core/step.ts';
import { Rng } from './random.ts';

export type Variant = 'correct' | 'forgetful-acceptor' | 'minority-quorum' | 'no-agreement';

export interface Scenario {
  seed: number;
  n: number;
  q: number;
  variant: Variant;
}

export interface Outcome {
  scenario: Scenario;
  /** Safety violations; empty when none. */
  violations: string[];
  /** Liveness: ms from the heal until a cluster formed, or undefined if none formed within the bound. */
  formedAfterHealMs: number | undefined;
  healAtMs: number;
  events: number;
  /** What the schedule exercised, so a test can show the faults really happen. */
  stats: { reissues: number; lostBootstraps: number; crashes: number; reboots: number; duels: number };
  trace: string[];
}

export const ROUND_MS = 5_000;
export const REISSUE_DELAY_MS = 120_000;
/** Talos pulls etcd's image after a Bootstrap: up to minutes (scaled). */
export const ETCD_START_MS: [number, number] = [5_000, 180_000];
export const FAULTS_UNTIL_MS: [number, number] = [0, 300_000];
/**
 * After the heal every node is up and connected. Stated bound for a cluster to form: the re-issue delay,
 * plus etcd's longest start, plus the longest backoff, plus a few rounds.
 */
export const LIVENESS_BOUND_MS = REISSUE_DELAY_MS + ETCD_START_MS[1] + 30_000 + 12 * ROUND_MS;

const TUNABLES: Tunables = { phaseTimeoutMs: 3_000, backoffBaseMs: 1_000, backoffMaxMs: 30_000, chosenResendMs: 15_000 };

interface Etcd {
  /** The cluster its data directory belongs to; undefined while empty. */
  data: string | undefined;
  /** Talos accepted a Bootstrap and holds it in memory until etcd starts. */
  pending: boolean;
  running: boolean;
}

interface SimNode {
  id: string;
  /** Local clock rate (drift): local ms = global ms × rate. */
  rate: number;
  up: boolean;
  /** Changes on every reboot; events of an older boot are ignored. */
  boot: number;
  bootTime: number;
  daemonUp: boolean;
  /** Changes on every daemon start; timers of an older daemon are ignored. */
  daemon: number;
  disk: DurableState;
  core: AgreementState | undefined;
  startedAt: number;
  lastIssuedAt: number | undefined;
  etcd: Etcd;
  /** Never comes up (q < N: the control plane that never boots). */
  absent: boolean;
  /** What the runner armed (its own identity) after a round that elected it; cleared by a restart. */
  armed: string | undefined;
}

type Event =
  | { kind: 'round'; node: number; daemon: number }
  | { kind: 'deliver'; to: number; message: Message }
  | { kind: 'etcd-start'; node: number; boot: number }
  | { kind: 'daemon-crash'; node: number }
  | { kind: 'daemon-start'; node: number; boot: number }
  | { kind: 'reboot'; node: number }
  | { kind: 'boot-up'; node: number; boot: number }
  | { kind: 'partition' }
  | { kind: 'heal' };

export function runScenario(sc: Scenario, opts: { trace?: boolean } = {}): Outcome {
  const rng = new Rng(sc.seed);
  const faults: Faults = sc.variant === 'minority-quorum' ? { quorumOffByOne: true } : {};
  const params: AgreementParams = { quorum: sc.q, controlPlanes: sc.n, clusterId: 'sim-cluster' };
  const trace: string[] = [];
  const violations: string[] = [];
  const note = (line: string) => {
    if (opts.trace) trace.push(`${(now / 1000).toFixed(3)}s ${line}`);
  };

  let now = 0;
  let seq = 0;
  let events = 0;
  const queue: { at: number; seq: number; ev: Event }[] = [];
  const schedule = (at: number, ev: Event) => {
    const item = { at: Math.max(at, now), seq: seq++, ev };
    // Binary insertion keeps the queue ordered by (time, sequence).
    let lo = 0;
    let hi = queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = queue[mid] as { at: number; seq: number };
      if (m.at < item.at || (m.at === item.at && m.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    queue.splice(lo, 0, item);
  };

  const healAt = rng.int(FAULTS_UNTIL_MS[0], FAULTS_UNTIL_MS[1]);
  let healed = false;
  // Network fault rates for this schedule.
  const loss = rng.chance(0.7) ? rng.next() * 0.3 : 0;
  const dup = rng.chance(0.5) ? rng.next() * 0.2 : 0;
  const maxDelay = rng.pick([50, 500, 3_000]);
  const crashRate = rng.pick([0, 1 / 60_000, 1 / 15_000]);
  const rebootRate = rng.pick([0, 1 / 120_000, 1 / 40_000]);
  let blocked = new Set<string>();

  // Up to N−q control planes never come up (only in the correct variant, where liveness is checked).
  const absentCount = sc.variant === 'correct' ? rng.int(0, sc.n - sc.q) : 0;
  const nodes: SimNode[] = [];
  for (let i = 0; i < sc.n; i++) {
    nodes.push({
      id: `cp${i + 1}`,
      rate: 1 + (rng.next() - 0.5) * 0.2,
      up: false,
      boot: 0,
      bootTime: 0,
      daemonUp: false,
      daemon: 0,
      disk: EMPTY_DURABLE,
      core: undefined,
      startedAt: 0,
      lastIssuedAt: undefined,
      etcd: { data: undefined, pending: false, running: false },
      absent: i < absentCount,
      armed: undefined,
    });
  }
  const local = (n: SimNode) => Math.floor(now * n.rate);
  const toGlobal = (n: SimNode, localDelay: number) => now + Math.ceil(localDelay / n.rate);

  const clustersFormed = new Set<string>();
  const bootstrapAccepted = new Set<string>();
  const learned = new Map<string, string>();
  let formedAt: number | undefined;
  const stats = { reissues: 0, lostBootstraps: 0, crashes: 0, reboots: 0, duels: 0 };

  const check = () => {
    if (bootstrapAccepted.size > 1) violations.push(`Bootstrap accepted on ${[...bootstrapAccepted].join(' and ')}`);
    if (clustersFormed.size > 1) violations.push(`two etcd clusters: ${[...clustersFormed].join(' and ')}`);
    const values = new Set(learned.values());
    if (values.size > 1) violations.push(`nodes learned different bootstrappers: ${[...learned].map(([k, v]) => `${k}=${v}`).join(', ')}`);
  };

  const apply = (n: SimNode, input: Input) => {
    if (!n.core) return;
    const r = step(n.core, input, { now: local(n), wallNow: now, random: rng.next() }, faults);
    n.core = r.state;
    // The runtime's rule: persist before sending or acting.
    if (r.persist) n.disk = r.persist;
    for (const a of r.act) {
      if (a.kind === 'learned') {
        learned.set(n.id, a.value);
        note(`${n.id} learned ${a.value}`);
      } else if (a.level === 'error' || a.level === 'warn') note(`${n.id} ${a.level} ${a.event}`);
      else if (a.event === 'proposal-backoff') stats.duels++;
    }
    for (const s of r.send) {
      const to = nodes.findIndex((x) => x.id === s.to);
      if (to < 0) continue;
      const copies = !healed && rng.chance(dup) ? 2 : 1;
      for (let c = 0; c < copies; c++) {
        if (!healed && rng.chance(loss)) continue;
        schedule(now + rng.int(1, healed ? 50 : maxDelay), { kind: 'deliver', to, message: s.message });
      }
    }
  };

  const reachable = (from: SimNode, to: SimNode) => to.up && !blocked.has(`${from.id}>${to.id}`);

  const candidateOf = (p: SimNode): Candidate => ({
    address: p.id,
    identity: p.id,
    hostname: p.id,
    bootTime: BigInt(p.bootTime),
    machineType: 'controlplane',
    stage: 'running',
    // What Talos shows (model/etcd-evidence.ts): Running, or else Preparing "Running pre state", also while an
    // accepted Bootstrap waits in memory: Finished "Bootstrap requested" is shown only inside the Bootstrap
    // call, which is instantaneous here (services/etcd.go:806-836, test/sim/README.md); the data directory
    // as it is.
    etcd: {
      service: p.etcd.running
        ? { kind: 'running', fact: { state: 'Running', lastEvent: '' } }
        : { kind: 'not-running', fact: { state: 'Preparing', lastEvent: 'Running pre state' } },
      dataDir: p.etcd.data === undefined ? { kind: 'empty' } : { kind: 'has-data', entries: ['member'] },
    },
  });

  // One round of the runner: the real decision (src/bootstrap/core/decide.ts, with the agreement's chosen
  // node leading), the agreement fed as the runner feeds it, and the real gate at the final check.
  const round = (i: number) => {
    const n = nodes[i] as SimNode;
    if (!n.core) return;
    const verified = nodes.filter((p) => p === n || reachable(n, p));
    const controlPlanes = verified.map(candidateOf);
    const cluster = verified.find((p) => p.etcd.running && p.etcd.data !== undefined);
    const observation: Observation = {
      selfAddress: n.id,
      selfIdentity: n.id,
      controlPlanes,
      others: [],
      rejected: [],
      memberList: cluster ? { kind: 'ok', memberIds: [cluster.etcd.data as string] } : { kind: 'timed-out', message: 'no etcd' },
    };
    const d = decide({ observation, quorumNodes: sc.q, armed: n.armed, chosen: n.core.durable.chosen });
    apply(n, { kind: 'view', view: { verified: verified.map((p) => p.id), leads: d.kind === 'bootstrap', seen: verified.length } });
    apply(n, { kind: 'tick' });
    if (d.kind === 'arm') n.armed = n.id;
    else if (d.kind !== 'bootstrap') n.armed = undefined;
    if (d.kind !== 'bootstrap') return;
    // The daemon before agreement: a majority seen and the evidence were enough to call.
    if (sc.variant === 'no-agreement') return talosBootstrap(n, false);
    const core = n.core;
    const self = controlPlanes.find((c) => c.identity === n.id) as Candidate;
    const gate = bootstrapGate({
      self: n.id,
      chosen: core.durable.chosen,
      chosenAtMs: core.durable.chosenAtMs,
      quorumError: core.quorumError,
      evidence: 'not-bootstrapped',
      ownDataDirEmpty: self.etcd.dataDir.kind === 'empty',
      ownEtcdRunning: self.etcd.service.kind === 'running' ? true : self.etcd.service.kind === 'not-running' ? false : undefined,
      lastIssuedAt: n.lastIssuedAt,
      issuedBefore: n.disk.bootstrapIssued,
      startedAt: n.startedAt,
      now: local(n),
      reissueDelayMs: REISSUE_DELAY_MS,
    });
    if (gate.kind === 'call') talosBootstrap(n, gate.reissue);
    else n.armed = undefined;
  };

  // Talos's Bootstrap (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go): refused when the
  // etcd data directory is not empty; otherwise accepted and held in memory until etcd starts.
  const talosBootstrap = (n: SimNode, reissue: boolean) => {
    if (n.etcd.data !== undefined) return note(`${n.id} Bootstrap refused: data directory not empty`);
    note(`${n.id} Bootstrap accepted${reissue ? ' (re-issued)' : ''}`);
    if (reissue) stats.reissues++;
    bootstrapAccepted.add(n.id);
    n.lastIssuedAt = local(n);
    if (!n.disk.bootstrapIssued) {
      n.disk = { ...n.disk, bootstrapIssued: true };
      if (n.core) n.core = { ...n.core, durable: n.disk };
    }
    if (!n.etcd.pending) {
      n.etcd.pending = true;
      schedule(now + rng.int(ETCD_START_MS[0], ETCD_START_MS[1]), { kind: 'etcd-start', node: nodes.indexOf(n), boot: n.boot });
    }
    check();
  };

  const startDaemon = (n: SimNode) => {
    n.daemon++;
    n.daemonUp = true;
    if (sc.variant === 'forgetful-acceptor') n.disk = EMPTY_DURABLE;
    n.core = initialState(n.id, params, n.disk, TUNABLES);
    n.startedAt = local(n);
    n.lastIssuedAt = undefined;
    n.armed = undefined;
    if (n.disk.chosen !== undefined) learned.set(n.id, n.disk.chosen);
    schedule(now + rng.int(0, ROUND_MS), { kind: 'round', node: nodes.indexOf(n), daemon: n.daemon });
  };

  const bootNode = (n: SimNode) => {
    n.boot++;
    n.up = true;
    // A new boot time; sometimes the clock steps after sync, moving it by minutes either way.
    n.bootTime = Math.floor(now / 1000) + (rng.chance(0.2) ? rng.int(-600, 600) : 0);
    // etcd with data restarts and rejoins its own cluster; without data it waits to join or for a Bootstrap.
    n.etcd.running = n.etcd.data !== undefined;
    schedule(now + rng.int(1_000, 10_000), { kind: 'daemon-start', node: nodes.indexOf(n), boot: n.boot });
  };

  for (const n of nodes) if (!n.absent) schedule(rng.int(0, 60_000), { kind: 'boot-up', node: nodes.indexOf(n), boot: 0 });
  schedule(0, { kind: 'partition' });
  schedule(healAt, { kind: 'heal' });
  const horizon = healAt + LIVENESS_BOUND_MS;

  while (queue.length > 0) {
    const item = queue.shift() as { at: number; seq: number; ev: Event };
    if (item.at > horizon) break;
    now = item.at;
    events++;
    const ev = item.ev;
    switch (ev.kind) {
      case 'boot-up': {
        const n = nodes[ev.node] as SimNode;
        if (n.up || n.boot !== ev.boot) break;
        bootNode(n);
        break;
      }
      case 'daemon-start': {
        const n = nodes[ev.node] as SimNode;
        if (!n.up || n.boot !== ev.boot || n.daemonUp) break;
        startDaemon(n);
        if (!healed && crashRate > 0) schedule(now + Math.floor(-Math.log(1 - rng.next()) / crashRate), { kind: 'daemon-crash', node: ev.node });
        if (!healed && rebootRate > 0) schedule(now + Math.floor(-Math.log(1 - rng.next()) / rebootRate), { kind: 'reboot', node: ev.node });
        break;
      }
      case 'round': {
        const n = nodes[ev.node] as SimNode;
        if (!n.daemonUp || n.daemon !== ev.daemon) break;
        round(ev.node);
        schedule(toGlobal(n, ROUND_MS), ev);
        break;
      }
      case 'deliver': {
        const n = nodes[ev.to] as SimNode;
        const from = nodes.find((x) => x.id === ev.message.from);
        if (!n.daemonUp || !from || blocked.has(`${from.id}>${n.id}`)) break;
        apply(n, { kind: 'message', message: ev.message });
        break;
      }
      case 'daemon-crash': {
        const n = nodes[ev.node] as SimNode;
        if (healed || !n.daemonUp) break;
        note(`${n.id} daemon crashed`);
        stats.crashes++;
        n.daemonUp = false;
        n.core = undefined;
        schedule(now + rng.int(1_000, 20_000), { kind: 'daemon-start', node: ev.node, boot: n.boot });
        break;
      }
      case 'reboot': {
        const n = nodes[ev.node] as SimNode;
        if (healed || !n.up) break;
        note(`${n.id} rebooted${n.etcd.pending ? ' (its accepted Bootstrap is lost)' : ''}`);
        stats.reboots++;
        if (n.etcd.pending) stats.lostBootstraps++;
        n.up = false;
        n.daemonUp = false;
        n.core = undefined;
        n.etcd.pending = false;
        n.etcd.running = false;
        schedule(now + rng.int(10_000, 60_000), { kind: 'boot-up', node: ev.node, boot: n.boot });
        break;
      }
      case 'etcd-start': {
        const n = nodes[ev.node] as SimNode;
        if (!n.up || n.boot !== ev.boot || !n.etcd.pending) break;
        n.etcd.pending = false;
        if (n.etcd.data === undefined) {
          const cluster = `etcd@${n.id}#${clustersFormed.size + 1}`;
          n.etcd.data = cluster;
          clustersFormed.add(cluster);
          note(`${n.id} etcd started a new cluster ${cluster}`);
          formedAt ??= now;
          check();
        }
        n.etcd.running = true;
        break;
      }
      case 'partition': {
        if (healed) break;
        const p = rng.pick([0, 0.1, 0.3, 0.5]);
        blocked = new Set();
        for (const a of nodes) for (const b of nodes) if (a !== b && rng.chance(p)) blocked.add(`${a.id}>${b.id}`);
        schedule(now + rng.int(10_000, 90_000), { kind: 'partition' });
        break;
      }
      case 'heal': {
        healed = true;
        blocked = new Set();
        note('heal: every node up, network whole');
        for (const n of nodes) if (!n.absent && !n.up) schedule(now, { kind: 'boot-up', node: nodes.indexOf(n), boot: n.boot });
        for (const n of nodes) if (!n.absent && n.up && !n.daemonUp) schedule(now, { kind: 'daemon-start', node: nodes.indexOf(n), boot: n.boot });
        break;
      }
    }
    // Joining: a control plane with an empty data directory joins a running cluster it can reach.
    for (const n of nodes) {
      if (!n.up || n.etcd.data !== undefined || n.etcd.pending) continue;
      const source = nodes.find((p) => p !== n && p.etcd.running && reachable(n, p));
      if (source) {
        n.etcd.data = source.etcd.data;
        n.etcd.running = true;
      }
    }
    if (violations.length > 0) break;
    // Done early once healed and every present node runs etcd of the one cluster.
    if (healed && formedAt !== undefined && nodes.every((n) => n.absent || n.etcd.running)) break;
  }
  check();
  const uniq = [...new Set(violations)];
  const formedAfterHealMs = formedAt === undefined ? undefined : Math.max(0, formedAt - healAt);
  return { scenario: sc, violations: uniq, formedAfterHealMs, healAtMs: healAt, events, stats, trace };
}

/** The scenario a seed stands for: N in {1,3,5,7}, q from a majority to N. */
export function scenarioFor(seed: number, variant: Variant = 'correct'): Scenario {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const sizes = variant === 'correct' ? [1, 3, 5, 7] : [3, 5, 7];
  const n = rng.pick(sizes);
  const q = variant === 'correct' ? rng.int(majorityOf(n), n) : majorityOf(n);
  return { seed, n, q, variant };
}

export interface RunSummary {
  runs: number;
  failures: Outcome[];
  maxFormedAfterHealMs: number;
  /** Sums over every schedule. */
  stats: Outcome['stats'];
}

/** Safety on every schedule; liveness too for the correct variant. */
export function failed(o: Outcome): boolean {
  if (o.violations.length > 0) return true;
  return o.scenario.variant === 'correct' && o.formedAfterHealMs === undefined;
}

export function runMany(first: number, count: number, variant: Variant, stopAfter = Infinity): RunSummary {
  const failures: Outcome[] = [];
  let maxFormed = 0;
  let runs = 0;
  const stats = { reissues: 0, lostBootstraps: 0, crashes: 0, reboots: 0, duels: 0 };
  for (let seed = first; seed < first + count; seed++) {
    const o = runScenario(scenarioFor(seed, variant));
    runs++;
    for (const k of Object.keys(stats) as (keyof typeof stats)[]) stats[k] += o.stats[k];
    if (o.formedAfterHealMs !== undefined) maxFormed = Math.max(maxFormed, o.formedAfterHealMs);
    if (failed(o)) {
      failures.push(o);
      if (failures.length >= stopAfter) break;
    }
  }
  return { runs, failures, maxFormedAfterHealMs: maxFormed, stats };
}
