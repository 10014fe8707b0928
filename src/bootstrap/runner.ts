// The daemon's loop: observe, decide (pure core), act, and say why — once per change, not per tick.
// Every wait is a sleep that a stop request ends; every Bootstrap error is classified before acting on it.
import type { Config } from '../config.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { Logger } from '../log.ts';
import { classifyBootstrapError, codeName } from '../talos/error-class.ts';
import { status } from '@grpc/grpc-js';
import { TalosCallError } from '../talos/node-client.ts';
import { formatDuration } from '../util/duration.ts';
import { compareIPv4 } from '../util/ipv4.ts';
import { sleep, Stopped } from '../util/sleep.ts';
import { SYSTEM_TIMERS, type Timers } from '../util/timers.ts';
import { backoffDelay, type BackoffPolicy } from './core/backoff.ts';
import { decide, type Decision, type WaitReason } from './core/decide.ts';
import type { MemberListResult, Observation } from './core/observation.ts';
import { oneCluster } from './core/one-cluster.ts';
import { settlePlan } from './core/settle.ts';
import { raceWakeup, unlessStopped } from '../util/race.ts';
import type { Wakeup } from '../util/wakeup.ts';
import { discoverySummary } from './discovery-summary.ts';
import type { EtcdView, LocalEtcd, Round } from './talos-view.ts';
import type { Candidate, NodeIdentity } from '../model/candidate.ts';
import { SYSTEM_CLOCK, type MonotonicClock } from '../model/clock.ts';
import { PROCEED_GATE, type AgreementHooks, type BootstrapGate } from './gate.ts';
import { hexMemberId } from '../model/member-id.ts';

/** What the runner needs from the network; TalosView in the daemon, a fake in tests. */
export interface RunnerIO {
  /**
   * One round; `memberList` is a member-list query the caller started earlier (else one starts now). With
   * `takeEarly`, the round may be returned before its scan ends, once a partial observation satisfies it.
   */
  observe(memberList?: Promise<MemberListResult>, takeEarly?: (partial: Observation) => boolean): Promise<Round>;
  startMemberList(): Promise<MemberListResult>;
  readonly memberListDeadlineMs: number;
  bootstrapSelf(): Promise<void>;
  /** The final evidence: these control planes inspected again now (see TalosView.recheck). */
  recheck(controlPlanes: readonly Candidate[]): Promise<{ kind: 'fresh'; controlPlanes: Candidate[] } | { kind: 'failed'; reason: string }>;
  localEtcd(): Promise<LocalEtcd>;
  etcdViews(addresses: string[]): Promise<EtcdView[]>;
}

export interface RunnerContext {
  config: Config;
  log: Logger;
  /** NODE_IP. */
  self: string;
  /** This node's identity (Identities.cluster.talos.dev/local, read from its local apid). */
  selfIdentity: NodeIdentity;
  io: RunnerIO;
  signal: AbortSignal;
  random: () => number;
  /** Rung by sources with news (a new member): ends the current wait so a round starts at once. */
  wakeup: Wakeup;
  /** Monotonic clock for every interval; defaults to performance.now. */
  clock?: MonotonicClock;
  /**
   * What every wait of the loop runs on; the runtime's timers by default. The simulation passes a virtual
   * queue (with a clock and a `wakeup` on the same queue), so the real loop runs on simulated time.
   */
  timers?: Timers;
  /** Who-may-bootstrap agreement; defaults to the agreement's gate, else PROCEED_GATE (the evidence alone decides). */
  gate?: BootstrapGate;
  /** The agreement on the one bootstrapper (src/agreement/runner-link.ts); its gate is used unless `gate` is set. */
  agreement?: AgreementHooks;
}

export interface RunResult {
  exitCode: ExitCode;
  reason: string;
}

/** Joining control planes give up after 30 minutes (Talos's EtcdJoinTimeout); wait a little longer than that. */
export const JOIN_WAIT_MS = 35 * 60_000;
const BOOTSTRAP_RETRY_INITIAL_MS = 1_000;
/**
 * The oldest answer Bootstrap may rest on: a call later than this after its final evidence was asked
 * needs fresh evidence first. Small against anything that can change the answer (a peer's Bootstrap,
 * etcd starting), large against one inspection of a few named nodes.
 */
export function evidenceMaxAgeMs(scanTimeoutMs: number): number {
  return Math.max(3_000, 2 * scanTimeoutMs);
}
/** Fresh final evidence is tried this many times before a whole new round. */
const FINAL_EVIDENCE_TRIES = 3;

/** Logs a decision at info only when what it says changes; repeats go to debug. */
class ChangeLog {
  private last = '';
  constructor(private readonly log: Logger) {}
  note(key: string, fields: Record<string, unknown>, message: string, level: 'info' | 'warn' | 'error' = 'info'): void {
    if (key === this.last) {
      this.log.debug(fields, message);
      return;
    }
    this.last = key;
    this.log[level](fields, message);
  }
}

export async function runDaemonLoop(ctx: RunnerContext): Promise<RunResult> {
  try {
    return await electAndBootstrap(ctx);
  } catch (e) {
    if (e instanceof Stopped) return { exitCode: EXIT.OK, reason: 'stopped on request while waiting' };
    throw e;
  }
}

/** Distinct control planes of this cluster seen: verified ones, or listed as control-plane members. */
function controlPlanesSeen(round: Round): number {
  const verified = round.observation.controlPlanes.length;
  return round.members.kind === 'known' ? Math.max(verified, round.members.controlPlaneMembers ?? 0) : verified;
}

function waitInterval(config: Config, reason: WaitReason): number {
  switch (reason) {
    case 'no-quorum':
      return config.scanIntervalMs;
    default:
      return config.followerCheckIntervalMs;
  }
}

async function electAndBootstrap(ctx: RunnerContext): Promise<RunResult> {
  const { config, log, io, signal } = ctx;
  const decisions = new ChangeLog(log);
  const sources = new ChangeLog(log);
  const untrustedLogged = new Set<string>();
  const retryPolicy: BackoffPolicy = { initialMs: BOOTSTRAP_RETRY_INITIAL_MS, maxMs: config.maxBackoffMs, factor: 2 };
  let armed: string | undefined;
  let bootstrapAttempts = 0;

  let prefetched: Promise<MemberListResult> | undefined;
  let bootstrapNotBefore = 0;

  const clock = ctx.clock ?? SYSTEM_CLOCK;
  const timers = ctx.timers ?? SYSTEM_TIMERS;
  const now = () => clock.now();
  const gate = ctx.gate ?? ctx.agreement?.gate ?? PROCEED_GATE;
  const maxAgeMs = evidenceMaxAgeMs(config.scanTimeoutMs);
  for (;;) {
    const roundStart = now();
    log.debug({ event: 'round-start' }, 'discovery round');
    // Arming may come before the scan ends: as soon as what is found so far is enough to arm.
    const round: Round = await io.observe(prefetched, (partial) => decide({ observation: partial, quorumNodes: config.quorumNodes, armed, chosen: ctx.agreement?.chosen() }).kind === 'arm');
    prefetched = undefined;
    let observation = round.observation;
    let d: Decision = decide({ observation, quorumNodes: config.quorumNodes, armed, chosen: ctx.agreement?.chosen() });
    if (observation.memberList.kind === 'pending' && d.kind !== 'arm' && d.kind !== 'bootstrapped') {
      // The member list answers only at its deadline before a bootstrap. Wait for it, unless a source
      // brings news first: then this round is stale and a fresh one starts at once.
      const outcome = await raceWakeup(round.memberList, ctx.wakeup, signal);
      if (outcome.kind === 'woken') {
        log.debug({ event: 'round-restarted', reason: outcome.reason }, `new discovery round at once: ${outcome.reason}`);
        continue;
      }
      observation = { ...observation, memberList: outcome.value };
      d = decide({ observation, quorumNodes: config.quorumNodes, armed, chosen: ctx.agreement?.chosen() });
    }
    const logRound = (whole: Round) => {
      for (const u of whole.discovery.untrusted) {
        if (untrustedLogged.has(u.address)) continue;
        untrustedLogged.add(u.address);
        log.warn({ event: 'peer-ignored', peer: u.address, reason: u.reason }, `ignoring ${u.address}: ${u.reason}`);
      }
      const summary = discoverySummary(config.discovery, whole.discovery, whole.members, whole.observation.controlPlanes.length);
      sources.note(summary.key, { event: 'discovery', counts: whole.discovery.counts, members: whole.members, discoveryMs: whole.discoveryMs }, summary.message);
    };
    // A round taken early is summed up once it is whole (in the settle delay), with its final counts.
    if (!round.partial) logRound(round);
    decisions.note(`${d.kind}|${d.message}`, { event: 'decision', decision: d.kind, ...('reason' in d ? { reason: d.reason } : {}) }, d.message);
    ctx.agreement?.observe(observation, controlPlanesSeen(round));

    switch (d.kind) {
      case 'bootstrapped':
        return confirmJoined(ctx, 'follower', observation);
      case 'wait': {
        armed = undefined;
        // Rounds start every interval: the time the round itself took counts towards the wait.
        const woken = await ctx.wakeup.sleep(Math.max(0, waitInterval(config, d.reason) - (now() - roundStart)), signal);
        if (woken !== undefined) log.debug({ event: 'woken', reason: woken }, `discovery round now: ${woken}`);
        continue;
      }
      case 'arm': {
        armed = ctx.selfIdentity;
        log.info({ event: 'settle', delayMs: config.preBootstrapDelayMs }, `waiting ${formatDuration(config.preBootstrapDelayMs)} before the final check`);
        const armedAt = now();
        // One round's probes at a time: the final round starts after this one is whole, timed by its length.
        const whole = await unlessStopped(round.complete, signal);
        if (round.partial) logRound(whole);
        const plan = settlePlan(config.preBootstrapDelayMs, io.memberListDeadlineMs, whole.discoveryMs);
        bootstrapNotBefore = armedAt + plan.bootstrapNotBeforeMs;
        // The final member list is asked only now that the arming round is whole, so it can never be older
        // than the final round's probes: when the arming round overran the delay, both start at once.
        const memberListIn = Math.max(0, armedAt + plan.memberListAtMs - now());
        prefetched = sleep(memberListIn, signal, timers).then(
          () => io.startMemberList(),
          (): MemberListResult => ({ kind: 'no-answer', message: 'stopped before asking' }),
        );
        await sleep(Math.max(0, armedAt + plan.discoveryAtMs - now()), signal, timers);
        continue;
      }
      case 'bootstrap': {
        if (config.dryRun) {
          log.info({ event: 'dry-run' }, 'dry run: this node would call Bootstrap now; not calling it (TALOS_AUTO_BOOTSTRAP_DRY_RUN=true)');
          return { exitCode: EXIT.OK, reason: 'dry run' };
        }
        // The final round's evidence ends as the settle delay does; the call never comes before it.
        if (now() < bootstrapNotBefore) await sleep(bootstrapNotBefore - now(), signal, timers);
        // A source rang while the final round ran (a new member, not among that round's targets): the
        // evidence is no longer whole. Stay armed and check again with a fresh round first.
        const news = ctx.wakeup.take();
        if (news !== undefined) {
          log.info({ event: 'final-check-restarted', reason: news }, `final check again before calling Bootstrap: ${news}`);
          continue;
        }
        // The final evidence: the control planes of this round asked again now, so the call rests on answers
        // at most maxAgeMs old (monotonic clock), and the decision taken again over them.
        const final = await finalEvidence(ctx, observation, now, maxAgeMs);
        if (final.kind !== 'go') {
          log.info({ event: 'final-evidence-failed', reason: final.reason }, `not calling Bootstrap: ${final.reason}; checking again in ${formatDuration(config.followerCheckIntervalMs)}`);
          await ctx.wakeup.sleep(config.followerCheckIntervalMs, signal);
          continue;
        }
        const verdict = await gate({ self: final.self, controlPlanes: final.controlPlanes, quorumNodes: config.quorumNodes, evidenceAt: final.evidenceAt, signal });
        if (verdict.kind === 'wait') {
          log.info({ event: 'gate-wait', reason: verdict.message }, `not calling Bootstrap yet: ${verdict.message}`);
          await sleep(verdict.retryInMs, signal, timers);
          continue;
        }
        if (verdict.kind === 'other-chosen') {
          armed = undefined;
          log.info({ event: 'gate-other-chosen', chosen: verdict.chosen }, `not calling Bootstrap: ${verdict.message}`);
          await ctx.wakeup.sleep(config.followerCheckIntervalMs, signal);
          continue;
        }
        if (now() - final.evidenceAt > maxAgeMs) {
          log.info({ event: 'evidence-stale', ageMs: Math.round(now() - final.evidenceAt) }, `final evidence is ${formatDuration(now() - final.evidenceAt)} old by now (limit ${formatDuration(maxAgeMs)}); checking again`);
          continue;
        }
        log.info({ event: 'bootstrap-call', attempt: bootstrapAttempts + 1 }, 'calling Bootstrap on this node');
        ctx.agreement?.bootstrapCalling();
        try {
          await io.bootstrapSelf();
        } catch (e) {
          const code = e instanceof TalosCallError ? e.code : -1;
          const details = e instanceof TalosCallError ? e.details : String(e);
          const outcome = classifyBootstrapError(code, details);
          // Talos's own refusals (not a transport failure or a deadline): the call was not accepted.
          if (outcome === 'already-exists' || outcome === 'wrong-role' || outcome === 'refuse' || (outcome === 'retry' && code === status.FAILED_PRECONDITION)) ctx.agreement?.bootstrapRefused();
          const fields = { event: 'bootstrap-error', code: codeName(code), details, outcome };
          if (outcome === 'wrong-role') {
            log.error(fields, `Bootstrap refused (${codeName(code)}: ${details}): this node is not a control plane or the minted os:admin certificate was not accepted; check the machine type and CA`);
            return { exitCode: EXIT.FAILURE, reason: `Bootstrap ${codeName(code)}` };
          }
          if (outcome === 'refuse') {
            log.error(fields, `Bootstrap impossible (${details}): etcd is not configured in this node's machine config; add cluster.etcd to the config`);
            return { exitCode: EXIT.REFUSED, reason: 'etcd not configured' };
          }
          const delay = backoffDelay(retryPolicy, bootstrapAttempts, ctx.random);
          bootstrapAttempts++;
          const why =
            outcome === 'already-exists'
              ? 'this node already holds etcd data; re-checking whether its etcd runs'
              : outcome === 'retry'
                ? 'not ready yet'
                : 'outcome unknown; re-checking the cluster before anything else';
          log.warn({ ...fields, retryInMs: delay }, `Bootstrap ${codeName(code)}: ${details}; ${why}; next check in ${formatDuration(delay)}`);
          // Stay armed: the next round re-checks leader, quorum and cluster state before calling again.
          await sleep(delay, signal, timers);
          continue;
        }
        log.info({ event: 'bootstrap-done' }, 'Bootstrap accepted: this node is forming the etcd cluster');
        ctx.agreement?.bootstrapAccepted();
        return confirmJoined(ctx, 'leader', observation);
      }
    }
  }
}

type FinalEvidence = { kind: 'go'; self: Candidate; controlPlanes: Candidate[]; evidenceAt: number } | { kind: 'stop'; reason: string };

/**
 * Asks the round's control planes again and decides again over their fresh answers (the observation's
 * other facts kept). `go` only when that decision is still "bootstrap" and its oldest answer is within
 * maxAgeMs; a slow answer is retried a few times, then the caller starts a whole round.
 */
async function finalEvidence(ctx: RunnerContext, observation: Observation, now: () => number, maxAgeMs: number): Promise<FinalEvidence> {
  let reason = 'no fresh evidence';
  for (let i = 0; i < FINAL_EVIDENCE_TRIES; i++) {
    const asked = now();
    const fresh = await ctx.io.recheck(observation.controlPlanes);
    if (fresh.kind === 'failed') return { kind: 'stop', reason: `final evidence incomplete: ${fresh.reason}` };
    const evidenceAt = fresh.controlPlanes.reduce((t, c) => Math.min(t, c.answeredAt ?? asked), Number.POSITIVE_INFINITY);
    const at = Number.isFinite(evidenceAt) ? evidenceAt : asked;
    const again: Observation = { ...observation, controlPlanes: fresh.controlPlanes };
    const d = decide({ observation: again, quorumNodes: ctx.config.quorumNodes, armed: ctx.selfIdentity, chosen: ctx.agreement?.chosen() });
    if (d.kind !== 'bootstrap') return { kind: 'stop', reason: d.message };
    if (now() - at > maxAgeMs) {
      reason = `final evidence took ${formatDuration(now() - at)} (limit ${formatDuration(maxAgeMs)})`;
      continue;
    }
    const self = fresh.controlPlanes.find((c) => c.identity === ctx.selfIdentity) as Candidate;
    return { kind: 'go', self, controlPlanes: fresh.controlPlanes, evidenceAt: at };
  }
  return { kind: 'stop', reason };
}

/**
 * After a bootstrap (ours or another node's): wait for this node's etcd, then — on the leader — for every
 * control plane of the quorum, then check that all of them report one cluster.
 */
async function confirmJoined(ctx: RunnerContext, role: 'leader' | 'follower', quorumView: Observation): Promise<RunResult> {
  const { config, log, io, signal } = ctx;
  const clock = ctx.clock ?? SYSTEM_CLOCK;
  const timers = ctx.timers ?? SYSTEM_TIMERS;
  const now = () => clock.now();
  const deadline = now() + JOIN_WAIT_MS;
  const progress = new ChangeLog(log);

  for (;;) {
    const local = await io.localEtcd();
    if (local.running && local.healthy) break;
    if (now() > deadline) {
      log.error({ event: 'join-timeout', detail: local.detail }, `local etcd did not become healthy within ${formatDuration(JOIN_WAIT_MS)}: ${local.detail}; see talosctl logs etcd and talosctl service etcd`);
      return { exitCode: EXIT.FAILURE, reason: 'local etcd not healthy' };
    }
    progress.note(local.detail, { event: 'waiting-local-etcd', detail: local.detail }, `waiting for this node's etcd: ${local.detail}`);
    await sleep(config.followerCheckIntervalMs, signal, timers);
  }
  log.info({ event: 'local-etcd-healthy' }, "this node's etcd is running and healthy");

  let running: string[] = [];
  for (;;) {
    const { observation } = await io.observe();
    const runningIds = new Set(observation.controlPlanes.filter((c) => c.etcd.service.kind === 'running').map((c) => c.identity));
    running = observation.controlPlanes.filter((c) => runningIds.has(c.identity)).map((c) => c.address).sort(compareIPv4);
    const pending = role === 'leader' ? quorumView.controlPlanes.filter((c) => !runningIds.has(c.identity)).map((c) => c.address) : [];
    if (pending.length === 0) break;
    if (now() > deadline) {
      log.error({ event: 'join-timeout', pending }, `control planes did not join within ${formatDuration(JOIN_WAIT_MS)}: ${pending.join(', ')}; check their etcd logs (talosctl -n NODE logs etcd)`);
      return { exitCode: EXIT.FAILURE, reason: 'control planes did not join' };
    }
    progress.note(pending.join(','), { event: 'waiting-join', pending }, `waiting for ${pending.join(', ')} to join etcd`);
    await sleep(config.followerCheckIntervalMs, signal, timers);
  }

  // Every one of them must report its own membership; a node that does not answer is not "fine".
  for (;;) {
    const views = await io.etcdViews(running);
    const answered = views.filter((v): v is EtcdView & { memberIds: string[] } => v.memberIds !== undefined && v.memberIds.length > 0);
    const verdict = oneCluster(answered);
    if (verdict.kind === 'split') {
      const groups = verdict.groups.map((g) => `[${g.join(', ')}]`).join(' vs ');
      log.error(
        { event: 'split-brain', groups: verdict.groups },
        `two etcd clusters exist: ${groups}; stop here and recover: keep one cluster, reset the others (talosctl reset --system-labels-to-wipe EPHEMERAL) so they rejoin`,
      );
      return { exitCode: EXIT.REFUSED, reason: 'split brain' };
    }
    const silent = views.filter((v) => !answered.includes(v as EtcdView & { memberIds: string[] })).map((v) => `${v.address} (${v.error ?? 'empty member list'})`);
    if (silent.length === 0) {
      log.info(
        { event: 'cluster-healthy', role, members: verdict.memberIds.map(hexMemberId), controlPlanes: running },
        `one etcd cluster with ${verdict.memberIds.length} member(s) (${verdict.memberIds.map(hexMemberId).join(', ')}); control planes running etcd: ${running.join(', ')}`,
      );
      return { exitCode: EXIT.OK, reason: role === 'leader' ? 'bootstrapped' : 'joined' };
    }
    if (now() > deadline) {
      log.error({ event: 'membership-unconfirmed', silent }, `could not confirm one cluster: no membership from ${silent.join(', ')}`);
      return { exitCode: EXIT.FAILURE, reason: 'membership unconfirmed' };
    }
    progress.note(silent.join(','), { event: 'waiting-membership', silent }, `waiting for the member lists of ${silent.join(', ')}`);
    await sleep(config.followerCheckIntervalMs, signal, timers);
  }
}
