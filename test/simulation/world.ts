// A deterministic simulation of the whole bootstrap, in the spirit of FoundationDB's simulation testing: one
// process, a virtual clock, a seeded schedule. Every control plane runs the real daemon loop
// (src/bootstrap/runner.ts `runDaemonLoop`), the real agreement (src/agreement/runtime.ts around
// core/step.ts, linked to the runner by src/agreement/runner-link.ts) and the real decisions
// (src/bootstrap/core, src/agreement/core/bootstrap-gate.ts). Only the network (network.ts), the Talos API
// (sim-io.ts, and `bootstrap` below) and time (virtual-time.ts) are simulated; every wait of the daemon runs
// on the virtual queue through the injected clock and timers.
//
// Faults, until a random heal: message loss, duplication, reordering and delay; asymmetric partitions
// (directed links); daemon crashes at any await, restarted by Talos after 5 s; node reboots (new boot time,
// sometimes stepped by minutes; Talos's in-memory Bootstrap lost before etcd writes its data directory);
// lost Bootstrap answers; etcd taking minutes to start after a Bootstrap; clock-rate drift. Talos's own times
// are used, not scaled (see README.md).
import { status } from '@grpc/grpc-js';
import { majorityOf } from '../../src/agreement/core/params.ts';
import { DEFAULT_TUNABLES } from '../../src/agreement/core/state.ts';
import type { Faults } from '../../src/agreement/core/step.ts';
import { runnerAgreementFor, type RunnerAgreement } from '../../src/agreement/runner-link.ts';
import { AgreementRuntime, type DurableStore } from '../../src/agreement/runtime.ts';
import { runDaemonLoop } from '../../src/bootstrap/runner.ts';
import { DEFAULT_REISSUE_DELAY_MS, loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { Wakeup } from '../../src/util/wakeup.ts';
import { Network } from './network.ts';
import { Rng } from './random.ts';
import { SimIO, type BootstrapAnswer, type SimTalos } from './sim-io.ts';
import type { DaemonInstance, SimNode } from './sim-node.ts';
import { daemonTimers, NodeClock, VirtualTime } from './virtual-time.ts';

export type Variant =
  | 'correct'
  /** q below a majority and CONTROL_PLANES unset, every control plane listed as a member: nobody bootstraps. */
  | 'quorum-error'
  // Broken on purpose; each must fail within the run.
  | 'forgetful-acceptor'
  | 'minority-quorum'
  | 'no-agreement'
  | 'quorum-error-unnoticed'
  | 'hasty-reissue';

export const VARIANTS: readonly Variant[] = ['correct', 'quorum-error', 'forgetful-acceptor', 'minority-quorum', 'no-agreement', 'quorum-error-unnoticed', 'hasty-reissue'];

export interface Scenario {
  seed: number;
  n: number;
  q: number;
  /** TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES, when the schedule sets it. */
  controlPlanes: number | undefined;
  variant: Variant;
}

export interface Outcome {
  scenario: Scenario;
  /** Safety violations, and liveness failures where liveness is expected; empty when none. */
  violations: string[];
  /** Liveness: ms from the heal until a cluster formed (0 if before it), or undefined if none formed. */
  formedAfterHealMs: number | undefined;
  /** False when the schedule takes the chosen node away for good: then no cluster may form without it. */
  livenessExpected: boolean;
  healAtMs: number;
  events: number;
  /** What the schedule exercised, so a test can show the faults really happen. */
  stats: Stats;
  trace: string[];
}

export interface Stats {
  reissues: number;
  lostBootstraps: number;
  lostAnswers: number;
  /** Bootstraps refused with FailedPrecondition (machined not ready yet). */
  notReady: number;
  crashes: number;
  reboots: number;
  /** Proposals stopped because a peer promised a higher ballot (two proposers at once). */
  preemptions: number;
  /** Schedules in which the chosen node went away for good. */
  chosenGone: number;
  /** Nodes that booted only after the heal. */
  lateBoots: number;
}

/** Talos restarts an `untilSuccess` extension service that exited non-zero after 5 s (test/sim/README.md). */
export const RESTART_INTERVAL_MS = 5_000;
/** Talos pulls etcd's image after a Bootstrap: seconds to minutes. */
export const ETCD_START_MS: [number, number] = [5_000, 300_000];
/** A control plane joining a running cluster: image pull and member add, seconds to minutes. */
export const JOIN_MS: [number, number] = [1_000, 120_000];
/** After a boot, machined refuses Bootstrap (FailedPrecondition) until its CRI is healthy: up to this long. */
export const NOT_READY_MS = 90_000;
export const FAULTS_UNTIL_MS: [number, number] = [0, 900_000];
const SCAN_INTERVALS_MS = [5_000, 15_000, 30_000];
/**
 * After the heal every node is up and connected. Stated bound for a cluster to form: the re-issue delay (the
 * chosen node lost its Bootstrap in a reboot), etcd's slowest start, the longest Bootstrap backoff (MAX_BACKOFF,
 * 2 min) and the agreement's longest backoff, and 12 of the slowest rounds.
 */
export const LIVENESS_BOUND_MS = DEFAULT_REISSUE_DELAY_MS + ETCD_START_MS[1] + 120_000 + DEFAULT_TUNABLES.backoffMaxMs + 12 * 30_000;
/**
 * Every present control plane runs etcd of the one cluster and its daemon has confirmed it and exited 0
 * within this long after the heal: the bound above, the slowest join, and a late node booting up to
 * LATE_BOOT_MS after the heal.
 */
export const CONFIRM_BOUND_MS = 2 * LIVENESS_BOUND_MS;
const LATE_BOOT_MS = 300_000;
/** The quorum-error variants: how long after the heal nobody may have bootstrapped. */
const QUORUM_ERROR_WATCH_MS = 300_000;
/** Wall time at the simulation's start (boot times are Unix seconds from it). */
const WALL_EPOCH_MS = Date.UTC(2026, 0, 1);

const emptyStats = (): Stats => ({ reissues: 0, lostBootstraps: 0, lostAnswers: 0, notReady: 0, crashes: 0, reboots: 0, preemptions: 0, chosenGone: 0, lateBoots: 0 });

/** Runs one schedule to its end: safety checked after every event, liveness at the end. */
export async function runScenario(sc: Scenario, opts: { trace?: boolean } = {}): Promise<Outcome> {
  const rng = new Rng(sc.seed);
  const vt = new VirtualTime();
  const trace: string[] = [];
  const violations: string[] = [];
  const stats = emptyStats();
  const note = (line: string) => {
    if (opts.trace) trace.push(`${(vt.now / 1000).toFixed(3)}s ${line}`);
  };
  const quorumErrorVariant = sc.variant === 'quorum-error' || sc.variant === 'quorum-error-unnoticed';
  const faults: Faults = sc.variant === 'minority-quorum' ? { quorumOffByOne: true } : sc.variant === 'quorum-error-unnoticed' ? { ignoreSeen: true } : {};

  const healAt = rng.int(FAULTS_UNTIL_MS[0], FAULTS_UNTIL_MS[1]);
  const net = new Network(rng, rng.chance(0.7) ? rng.next() * 0.3 : 0, rng.chance(0.5) ? rng.next() * 0.2 : 0, rng.pick([50, 500, 3_000]));
  const crashRate = rng.pick([0, 1 / 120_000, 1 / 30_000]);
  const rebootRate = rng.pick([0, 1 / 300_000, 1 / 90_000]);
  // Every node boots within a minute, or (a third of the schedules) all within two seconds, so that several
  // lead at once under partitions; in the quorum-error variants within a second, so that every daemon's first
  // round already lists them all as members.
  const bootWindowMs = quorumErrorVariant ? 1_000 : rng.chance(0.33) ? 2_000 : 60_000;
  const chosenDies = sc.variant === 'correct' && rng.chance(0.1);
  const discovery = quorumErrorVariant || rng.chance(0.5) ? 'members,static' : 'static';
  const env = {
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: String(sc.q),
    TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: `${rng.pick(SCAN_INTERVALS_MS)}ms`,
    TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: `${rng.pick([5_000, 15_000])}ms`,
    TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: `${rng.pick([0, 2_000, 10_000])}ms`,
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: discovery,
    ...(sc.controlPlanes !== undefined ? { TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES: String(sc.controlPlanes) } : {}),
  };

  // Up to N−q control planes are not up before the heal (where liveness is checked): half of them never boot,
  // the others boot late, after the heal, and must join the one cluster.
  const absentCount = sc.variant === 'correct' ? rng.int(0, sc.n - sc.q) : 0;
  const nodes: SimNode[] = [];
  for (let i = 0; i < sc.n; i++) {
    const absent = i < absentCount;
    nodes.push({
      index: i,
      id: `cp${i + 1}`,
      address: `10.5.0.${i + 1}`,
      clock: new NodeClock(vt, 1 + (rng.next() - 0.5) * 0.2, rng.int(0, 1e9)),
      up: false,
      boot: 0,
      bootTime: 0,
      etcd: { data: undefined, pending: false, inBootstrapCall: false, running: false, joinAt: undefined },
      disk: undefined,
      daemon: undefined,
      finished: false,
      absent,
      lateBootMs: absent && rng.chance(0.5) ? rng.int(0, LATE_BOOT_MS) : undefined,
      gone: false,
      readyAt: 0,
    });
  }
  const present = (n: SimNode) => !n.gone && (!n.absent || n.lateBootMs !== undefined);
  const peers = nodes.map((n) => n.address).join(',');
  const configs = nodes.map((n) => configFor({ ...env, TALOS_AUTO_BOOTSTRAP_PEERS: peers, TALOS_AUTO_BOOTSTRAP_NODE_IP: n.address }));

  const clustersFormed = new Set<string>();
  /** Per node, the global times of the Bootstraps Talos accepted. */
  const accepted = new Map<string, number[]>();
  /** Per node, every value it learned as chosen. */
  const learned = new Map<string, Set<string>>();
  let formedAt: number | undefined;
  let chosenGone = false;

  const check = () => {
    if (accepted.size > 1) violations.push(`Bootstrap accepted on ${[...accepted.keys()].join(' and ')}`);
    if (clustersFormed.size > 1) violations.push(`two etcd clusters: ${[...clustersFormed].join(' and ')}`);
    const values = new Set([...learned.values()].flatMap((v) => [...v]));
    if (values.size > 1) violations.push(`different bootstrappers learned: ${[...learned].map(([k, v]) => `${k}=${[...v].join('+')}`).join(', ')}`);
  };

  // Talos's Bootstrap (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go, as test/sim's
  // machine-service.ts models it): FailedPrecondition until the CRI is healthy after a boot; AlreadyExists when
  // the etcd data directory is not empty; otherwise accepted and held in memory until etcd starts, whatever the
  // other control planes are doing.
  const bootstrap = (n: SimNode): BootstrapAnswer => {
    if (vt.now < n.readyAt) {
      stats.notReady++;
      note(`${n.id} Bootstrap refused: bootstrap is not available yet`);
      return { ok: false, code: status.FAILED_PRECONDITION, details: 'bootstrap is not available yet' };
    }
    if (n.etcd.data !== undefined) {
      note(`${n.id} Bootstrap refused: etcd data directory is not empty`);
      return { ok: false, code: status.ALREADY_EXISTS, details: 'etcd data directory is not empty' };
    }
    const times = accepted.get(n.id) ?? [];
    const last = times[times.length - 1];
    // The re-issue rule: a repeat only after the re-issue delay on this node's clock (drift at most 10 %).
    const minGap = (configs[n.index] as Config).reissueDelayMs / 1.1;
    if (last !== undefined && vt.now - last < minGap) violations.push(`${n.id} called Bootstrap again ${((vt.now - last) / 1000).toFixed(1)}s after an accepted one (the re-issue delay allows no less than ${(minGap / 1000).toFixed(0)}s)`);
    if (last !== undefined) stats.reissues++;
    // Talos still holds a Bootstrap it accepted in this boot: the daemon that heard the success never repeats it.
    if (n.etcd.pending && n.disk?.acceptedBootId === bootIdOf(n) && sc.variant !== 'no-agreement') violations.push(`${n.id} called Bootstrap again in the boot in which Talos accepted one and still holds it`);
    note(`${n.id} Bootstrap accepted`);
    accepted.set(n.id, [...times, vt.now]);
    if (quorumErrorVariant) violations.push(`${n.id} called Bootstrap although q=${sc.q} is not a majority of the ${sc.n} control planes it was shown`);
    else if (sc.variant !== 'no-agreement' && n.disk?.chosen !== n.id) violations.push(`${n.id} called Bootstrap without being the chosen bootstrapper (its state: ${n.disk?.chosen ?? 'none chosen'})`);
    if (!n.etcd.pending) {
      n.etcd.pending = true;
      const boot = n.boot;
      vt.after(rng.int(...ETCD_START_MS), () => etcdStart(n, boot));
    }
    check();
    return { ok: true };
  };
  const talos: SimTalos = { vt, net, rng, nodes, bootstrap, answerLost: () => void stats.lostAnswers++ };

  const etcdStart = (n: SimNode, boot: number) => {
    if (!n.up || n.boot !== boot || !n.etcd.pending) return;
    n.etcd.pending = false;
    if (n.etcd.data === undefined) {
      const cluster = `etcd@${n.id}#${clustersFormed.size + 1}`;
      n.etcd.data = cluster;
      clustersFormed.add(cluster);
      note(`${n.id} etcd started a new cluster ${cluster}`);
      formedAt ??= vt.now;
      check();
    }
    n.etcd.running = true;
  };

  // A control plane with an empty data directory and no Bootstrap pending joins a running cluster it reaches;
  // the join completes after the image pull and member add, if that cluster is still reachable then.
  const join = () => {
    for (const n of nodes) {
      if (!n.up || n.etcd.data !== undefined || n.etcd.pending) continue;
      const source = nodes.find((p) => p !== n && p.etcd.running && net.reaches(n, p));
      if (!source) {
        n.etcd.joinAt = undefined;
        continue;
      }
      if (n.etcd.joinAt === undefined) {
        n.etcd.joinAt = vt.now + rng.int(...JOIN_MS);
        vt.at(n.etcd.joinAt, () => undefined);
      } else if (vt.now >= n.etcd.joinAt) {
        n.etcd.data = source.etcd.data;
        n.etcd.running = true;
        n.etcd.joinAt = undefined;
        note(`${n.id} etcd joined ${String(source.etcd.data)}`);
      }
    }
  };

  const kill = (n: SimNode) => {
    const d = n.daemon;
    if (!d) return;
    d.alive = false;
    d.stop.abort();
    n.daemon = undefined;
  };

  const learn = (n: SimNode, value: string) => {
    const values = learned.get(n.id) ?? new Set<string>();
    if (values.size > 0 && !values.has(value)) violations.push(`${n.id} learned ${value} after ${[...values].join(', ')}`);
    values.add(value);
    learned.set(n.id, values);
    check();
    // The schedules that take the chosen node away for good: it dies soon after being chosen.
    if (chosenDies && !chosenGone) {
      chosenGone = true;
      stats.chosenGone++;
      const chosen = nodes.find((x) => x.id === value) as SimNode;
      vt.after(rng.int(0, 120_000), () => {
        note(`${chosen.id} is gone for good`);
        kill(chosen);
        chosen.up = false;
        chosen.gone = true;
        chosen.etcd.running = false;
        chosen.etcd.pending = false;
      });
    }
  };

  const startDaemon = (n: SimNode, boot: number) => {
    if (!n.up || n.boot !== boot || n.daemon || n.finished) return;
    const config = configs[n.index] as Config;
    const d: DaemonInstance = { alive: true, stop: new AbortController(), runtime: undefined, wakeup: undefined };
    n.daemon = d;
    note(`${n.id} daemon started`);
    const timers = daemonTimers(vt, n.clock, () => d.alive);
    const log = createLogger('info', {
      write: (line: string) => {
        const { level, msg } = JSON.parse(line) as { level: string; msg: string };
        if (msg.includes('promised a higher ballot')) stats.preemptions++;
        note(`${n.id} ${level} ${msg}`);
      },
    });
    let agreement: RunnerAgreement | undefined;
    if (sc.variant !== 'no-agreement') {
      // The acceptor state file: kept across crashes and reboots; the broken variant loses it on every start.
      const store: DurableStore = { load: () => (sc.variant === 'forgetful-acceptor' ? undefined : n.disk), save: (s) => void (n.disk = s) };
      const runtime = new AgreementRuntime({
        self: n.id,
        params: { quorum: sc.q, controlPlanes: sc.controlPlanes, clusterId: 'sim-cluster' },
        store,
        log,
        send: net.sender(vt, nodes, n, d),
        now: () => n.clock.now(),
        wallNow: () => WALL_EPOCH_MS + vt.now,
        random: () => rng.next(),
        faults,
      });
      d.runtime = runtime;
      runtime.whenLearned((value) => learn(n, value));
      if (runtime.chosen !== undefined) learn(n, runtime.chosen);
      // The broken variant re-issues without waiting: its link is given a re-issue delay of zero.
      const linkConfig = sc.variant === 'hasty-reissue' ? { ...config, reissueDelayMs: 0 } : config;
      agreement = runnerAgreementFor({ runtime, self: n.id, log, config: linkConfig, addresses: new Map(), now: () => n.clock.now(), timers, bootId: bootIdOf(n) });
    }
    const io = new SimIO(talos, n, d, config);
    const ended = (code: number, why: string) => {
      if (!d.alive) return;
      note(`${n.id} daemon exited ${code}: ${why}`);
      kill(n);
      if (code === 0) n.finished = true;
      else vt.after(RESTART_INTERVAL_MS, () => startDaemon(n, boot));
    };
    d.wakeup = new Wakeup(timers);
    runDaemonLoop({ config, log, self: n.address, selfIdentity: n.id, io, signal: d.stop.signal, random: () => rng.next(), wakeup: d.wakeup, clock: n.clock, timers, ...(agreement ? { agreement } : {}) }).then(
      (r) => ended(r.exitCode, r.reason),
      (e: unknown) => {
        if (!d.alive) return;
        violations.push(`${n.id}: the daemon threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
        ended(1, 'threw');
      },
    );
    if (!net.healed && crashRate > 0) {
      vt.after(exponential(rng, crashRate), () => {
        if (net.healed || n.daemon !== d) return;
        note(`${n.id} daemon crashed`);
        stats.crashes++;
        kill(n);
        vt.after(RESTART_INTERVAL_MS, () => startDaemon(n, boot));
      });
    }
  };

  const bootNode = (n: SimNode) => {
    if (n.up || n.gone) return;
    n.boot++;
    n.up = true;
    n.finished = false;
    n.readyAt = vt.now + rng.int(0, NOT_READY_MS);
    // A new boot time; sometimes the clock steps after sync, moving it by minutes either way.
    n.bootTime = Math.floor((WALL_EPOCH_MS + vt.now) / 1000) + (rng.chance(0.2) ? rng.int(-600, 600) : 0);
    // etcd with data restarts into its own cluster; without data it waits to join or for a Bootstrap.
    n.etcd.running = n.etcd.data !== undefined;
    const boot = n.boot;
    note(`${n.id} booted (boot time ${n.bootTime})`);
    if (n.boot === 1) {
      // Registered now: the members watch of every running daemon with members discovery rings its doorbell.
      for (const p of nodes) if (p.daemon?.alive && (configs[p.index] as Config).discovery.includes('members')) p.daemon.wakeup?.ring(`member ${n.address}`);
    }
    vt.after(quorumErrorVariant ? rng.int(2_000, 10_000) : rng.int(1_000, 10_000), () => startDaemon(n, boot));
    if (!net.healed && rebootRate > 0) vt.after(exponential(rng, rebootRate), () => reboot(n, boot));
  };

  const reboot = (n: SimNode, boot: number) => {
    if (net.healed || !n.up || n.boot !== boot) return;
    note(`${n.id} rebooted${n.etcd.pending ? ' (its accepted Bootstrap is lost)' : ''}`);
    stats.reboots++;
    if (n.etcd.pending) stats.lostBootstraps++;
    kill(n);
    n.up = false;
    n.etcd.pending = false;
    n.etcd.inBootstrapCall = false;
    n.etcd.running = false;
    n.etcd.joinAt = undefined;
    vt.after(rng.int(10_000, 60_000), () => bootNode(n));
  };

  // Link blocks, re-drawn every 10–90 s: each directed link blocked with one probability, or (a third of the
  // draws) a bridged split: two halves that cannot reach each other and one node that reaches both, so that a
  // leader on each side sees a majority through the bridge (the cp1 | cp2 | cp3 case, at every size).
  const partition = () => {
    if (net.healed) return;
    net.blocked = new Set();
    if (sc.n >= 3 && rng.chance(0.33)) {
      const order = [...nodes];
      for (let i = order.length - 1; i > 0; i--) {
        const j = rng.int(0, i);
        [order[i], order[j]] = [order[j] as SimNode, order[i] as SimNode];
      }
      const bridge = order[0] as SimNode;
      const half = order.slice(1).map((x, i) => [x, i % 2] as const);
      for (const [a, sa] of half) for (const [b, sb] of half) if (sa !== sb) net.blocked.add(`${a.id}>${b.id}`);
      note(`partition: ${bridge.id} bridges ${half.filter(([, x]) => x === 0).map(([a]) => a.id).join(',')} | ${half.filter(([, x]) => x === 1).map(([a]) => a.id).join(',')}`);
    } else {
      const p = rng.pick([0, 0.1, 0.3, 0.5]);
      for (const a of nodes) for (const b of nodes) if (a !== b && rng.chance(p)) net.blocked.add(`${a.id}>${b.id}`);
    }
    vt.after(rng.int(10_000, 90_000), partition);
  };

  const heal = () => {
    net.healed = true;
    net.blocked = new Set();
    note('heal: every node up, the network whole');
    for (const n of nodes) {
      if (n.gone) continue;
      if (n.absent) {
        if (n.lateBootMs !== undefined) {
          stats.lateBoots++;
          vt.after(n.lateBootMs, () => bootNode(n));
        }
        continue;
      }
      if (!n.up) bootNode(n);
      else if (!n.daemon && !n.finished) startDaemon(n, n.boot);
    }
  };

  for (const n of nodes) if (!n.absent) vt.at(rng.int(0, bootWindowMs), () => bootNode(n));
  vt.at(0, partition);
  vt.at(healAt, heal);
  const horizon = healAt + (quorumErrorVariant ? QUORUM_ERROR_WATCH_MS : CONFIRM_BOUND_MS);
  const settled = () => net.healed && formedAt !== undefined && nodes.every((n) => !present(n) || (n.up && n.etcd.running && n.finished));

  let events = 0;
  const restore = forbidRealTimers();
  try {
    for (let e = vt.next(); e !== undefined && e.at <= horizon; e = vt.next()) {
      vt.now = e.at;
      events++;
      e.run();
      // Every promise reaction the callback set off runs before the next callback, as in a real event loop.
      await drainMicrotasks();
      join();
      check();
      if (violations.length > 0) break;
      if (!quorumErrorVariant && settled()) break;
    }
  } finally {
    for (const n of nodes) kill(n);
    restore();
  }
  const livenessExpected = !quorumErrorVariant && !chosenGone;
  if (violations.length === 0 && livenessExpected) {
    if (formedAt === undefined) violations.push(`no cluster within ${LIVENESS_BOUND_MS / 1000}s of the heal`);
    else if (formedAt - healAt > LIVENESS_BOUND_MS) violations.push(`the cluster formed ${((formedAt - healAt) / 1000).toFixed(0)}s after the heal (bound ${LIVENESS_BOUND_MS / 1000}s)`);
    for (const n of nodes) {
      if (!present(n)) continue;
      if (!n.etcd.running) violations.push(`${n.id} never ran etcd of the cluster within ${CONFIRM_BOUND_MS / 1000}s of the heal`);
      else if (!n.finished) violations.push(`${n.id}'s daemon never confirmed the one cluster (exit 0) within ${CONFIRM_BOUND_MS / 1000}s of the heal`);
    }
  }
  if (quorumErrorVariant && violations.length === 0) {
    for (const n of nodes) if (n.finished) violations.push(`${n.id}'s daemon exited although q=${sc.q} is not a majority`);
    const noticed = nodes.filter((n) => n.disk?.maxSeen !== undefined && n.disk.maxSeen >= 2 * sc.q);
    if (noticed.length < nodes.length) violations.push(`only ${noticed.map((n) => n.id).join(', ') || 'no node'} recorded that ${sc.n} control planes were seen with q=${sc.q}`);
  }
  check();
  const uniq = [...new Set(violations)];
  const formedAfterHealMs = formedAt === undefined ? undefined : Math.max(0, formedAt - healAt);
  return { scenario: sc, violations: uniq, formedAfterHealMs, livenessExpected, healAtMs: healAt, events, stats, trace };
}

/** The kernel's boot_id of the node's current boot (new on every boot, unlike the boot time a clock step can repeat). */
function bootIdOf(n: SimNode): string {
  return `${n.id}-boot-${n.boot}`;
}

function configFor(env: Record<string, string>): Config {
  const loaded = loadConfig(env);
  if (!loaded.ok) throw new Error(`simulation config refused: ${JSON.stringify(loaded.problems)}`);
  return loaded.config;
}

function exponential(rng: Rng, rate: number): number {
  return Math.floor(-Math.log(1 - rng.next()) / rate);
}

function drainMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Any real timer in the code under simulation would make a run depend on the machine: make it fail loudly. */
function forbidRealTimers(): () => void {
  const saved = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval };
  const refuse = () => {
    throw new Error('a real timer was used inside the simulation; inject Timers (src/util/timers.ts)');
  };
  globalThis.setTimeout = refuse as unknown as typeof setTimeout;
  globalThis.setInterval = refuse as unknown as typeof setInterval;
  return () => {
    globalThis.setTimeout = saved.setTimeout;
    globalThis.setInterval = saved.setInterval;
  };
}

/** The scenario a seed stands for: N in {1,3,5,7}, q from a majority to N (below a majority in the quorum-error variants). */
export function scenarioFor(seed: number, variant: Variant = 'correct'): Scenario {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const n = rng.pick(variant === 'correct' ? [1, 3, 5, 7] : [3, 5, 7]);
  if (variant === 'quorum-error' || variant === 'quorum-error-unnoticed') return { seed, n, q: rng.int(1, Math.floor(n / 2)), controlPlanes: undefined, variant };
  const q = variant === 'correct' ? rng.int(majorityOf(n), n) : majorityOf(n);
  return { seed, n, q, controlPlanes: variant === 'correct' && rng.chance(0.5) ? n : undefined, variant };
}

export interface RunSummary {
  runs: number;
  failures: Outcome[];
  maxFormedAfterHealMs: number;
  events: number;
  /** Sums over every schedule. */
  stats: Stats;
}

/** Safety on every schedule; liveness too where expected (both are among the violations). */
export function failed(o: Outcome): boolean {
  return o.violations.length > 0;
}

export async function runMany(first: number, count: number, variant: Variant, stopAfter = Infinity): Promise<RunSummary> {
  const failures: Outcome[] = [];
  let maxFormed = 0;
  let runs = 0;
  let events = 0;
  const stats = emptyStats();
  for (let seed = first; seed < first + count; seed++) {
    const o = await runScenario(scenarioFor(seed, variant));
    runs++;
    events += o.events;
    for (const k of Object.keys(stats) as (keyof Stats)[]) stats[k] += o.stats[k];
    if (o.formedAfterHealMs !== undefined) maxFormed = Math.max(maxFormed, o.formedAfterHealMs);
    if (failed(o)) {
      failures.push(o);
      if (failures.length >= stopAfter) break;
    }
  }
  return { runs, failures, maxFormedAfterHealMs: maxFormed, events, stats };
}
