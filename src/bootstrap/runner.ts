// The daemon's loop: observe, decide (pure core), act, and say why — once per change, not per tick.
// Every wait is a sleep that a stop request ends; every Bootstrap error is classified before acting on it.
import type { Config } from '../config.ts';
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { Logger } from '../log.ts';
import { classifyBootstrapError, codeName } from '../talos/error-class.ts';
import { TalosCallError } from '../talos/node-client.ts';
import { formatDuration } from '../util/duration.ts';
import { compareIPv4 } from '../util/ipv4.ts';
import { sleep, Stopped } from '../util/sleep.ts';
import { backoffDelay, type BackoffPolicy } from './core/backoff.ts';
import { decide, type Decision, type WaitReason } from './core/decide.ts';
import type { MemberListResult, Observation } from './core/observation.ts';
import { oneCluster } from './core/one-cluster.ts';
import { settlePlan } from './core/settle.ts';
import { raceWakeup, unlessStopped } from '../util/race.ts';
import type { Wakeup } from '../util/wakeup.ts';
import { discoverySummary } from './discovery-summary.ts';
import type { EtcdView, LocalEtcd, Round } from './talos-view.ts';
import type { BootstrapAgreement } from '../agreement/runner-link.ts';

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
  localEtcd(): Promise<LocalEtcd>;
  etcdViews(addresses: string[]): Promise<EtcdView[]>;
}

export interface RunnerContext {
  config: Config;
  log: Logger;
  self: string;
  io: RunnerIO;
  signal: AbortSignal;
  random: () => number;
  /** Rung by sources with news (a new member): ends the current wait so a round starts at once. */
  wakeup: Wakeup;
  /** The agreement on the one bootstrapper (docs/agreement.md); without it the election alone decides. */
  agreement?: BootstrapAgreement;
  now?: () => number;
}

export interface RunResult {
  exitCode: ExitCode;
  reason: string;
}

/** Joining control planes give up after 30 minutes (Talos's EtcdJoinTimeout); wait a little longer than that. */
export const JOIN_WAIT_MS = 35 * 60_000;
const BOOTSTRAP_RETRY_INITIAL_MS = 1_000;

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
  return round.members.kind === 'known' ? Math.max(verified, round.members.controlPlaneMembers) : verified;
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
  const agreementLog = new ChangeLog(log);
  const sources = new ChangeLog(log);
  const untrustedLogged = new Set<string>();
  const retryPolicy: BackoffPolicy = { initialMs: BOOTSTRAP_RETRY_INITIAL_MS, maxMs: config.maxBackoffMs, factor: 2 };
  let armed: string | undefined;
  let bootstrapAttempts = 0;

  let prefetched: Promise<MemberListResult> | undefined;
  let bootstrapNotBefore = 0;

  const now = ctx.now ?? Date.now;
  for (;;) {
    const roundStart = now();
    log.debug({ event: 'round-start' }, 'discovery round');
    // Arming may come before the scan ends: as soon as what is found so far is enough to arm.
    const round: Round = await io.observe(prefetched, (partial) => decide({ observation: partial, quorumNodes: config.quorumNodes, armed, chosen: ctx.agreement?.chosen }).kind === 'arm');
    prefetched = undefined;
    let observation = round.observation;
    let d: Decision = decide({ observation, quorumNodes: config.quorumNodes, armed, chosen: ctx.agreement?.chosen });
    if (observation.memberList.kind === 'pending' && d.kind !== 'arm' && d.kind !== 'bootstrapped') {
      // The member list answers only at its deadline before a bootstrap. Wait for it, unless a source
      // brings news first: then this round is stale and a fresh one starts at once.
      const outcome = await raceWakeup(round.memberList, ctx.wakeup, signal);
      if (outcome.kind === 'woken') {
        log.debug({ event: 'round-restarted', reason: outcome.reason }, `new discovery round at once: ${outcome.reason}`);
        continue;
      }
      observation = { ...observation, memberList: outcome.value };
      d = decide({ observation, quorumNodes: config.quorumNodes, armed, chosen: ctx.agreement?.chosen });
    }
    // Every round feeds the agreement this node's view (it proposes only at the final check, below).
    ctx.agreement?.view(observation, false, controlPlanesSeen(round));
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

    switch (d.kind) {
      case 'bootstrapped':
        return confirmJoined(ctx, 'follower', observation);
      case 'wait': {
        armed = undefined;
        const chosen = ctx.agreement?.chosen;
        if (chosen !== undefined && chosen !== ctx.self) {
          const g = ctx.agreement!.peek(observation, 'unknown');
          agreementLog.note(g.message, { event: 'agreement-chosen', chosen }, g.message);
        }
        // Rounds start every interval: the time the round itself took counts towards the wait.
        const woken = await ctx.wakeup.sleep(Math.max(0, waitInterval(config, d.reason) - (now() - roundStart)), signal);
        if (woken !== undefined) log.debug({ event: 'woken', reason: woken }, `discovery round now: ${woken}`);
        continue;
      }
      case 'arm': {
        armed = ctx.self;
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
        prefetched = sleep(memberListIn, signal).then(
          () => io.startMemberList(),
          (): MemberListResult => ({ kind: 'no-answer', message: 'stopped before asking' }),
        );
        await sleep(Math.max(0, armedAt + plan.discoveryAtMs - now()), signal);
        continue;
      }
      case 'bootstrap': {
        if (config.dryRun) {
          log.info({ event: 'dry-run' }, 'dry run: this node would call Bootstrap now; not calling it (TALOS_AUTO_BOOTSTRAP_DRY_RUN=true)');
          return { exitCode: EXIT.OK, reason: 'dry run' };
        }
        // The final round's evidence ends as the settle delay does; the call never comes before it.
        if (now() < bootstrapNotBefore) await sleep(bootstrapNotBefore - now(), signal);
        // A source rang while the final round ran (a new member, not among that round's targets): the
        // evidence is no longer whole. Stay armed and check again with a fresh round first.
        const news = ctx.wakeup.take();
        if (news !== undefined) {
          log.info({ event: 'final-check-restarted', reason: news }, `final check again before calling Bootstrap: ${news}`);
          continue;
        }
        if (ctx.agreement) {
          const knewBefore = ctx.agreement.chosen !== undefined;
          const g = await ctx.agreement.gate(observation, signal);
          if (g.kind !== 'call') {
            agreementLog.note(g.message, { event: 'agreement-wait', reason: g.reason }, g.message, g.reason === 'quorum-error' ? 'error' : 'info');
            armed = undefined;
            await ctx.wakeup.sleep(config.followerCheckIntervalMs, signal);
            continue;
          }
          if (!knewBefore) {
            // The outcome arrived during this check: a fresh round's evidence before the call.
            log.info({ event: 'agreement-chosen-self' }, 'this node was chosen as the one node that bootstraps; final check again before calling Bootstrap');
            continue;
          }
          log.info({ event: 'agreement-call', reissue: g.reissue }, g.message);
        }
        log.info({ event: 'bootstrap-call', attempt: bootstrapAttempts + 1 }, 'calling Bootstrap on this node');
        try {
          await io.bootstrapSelf();
        } catch (e) {
          const code = e instanceof TalosCallError ? e.code : -1;
          const details = e instanceof TalosCallError ? e.details : String(e);
          const outcome = classifyBootstrapError(code, details);
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
          await sleep(delay, signal);
          continue;
        }
        ctx.agreement?.bootstrapAccepted();
        log.info({ event: 'bootstrap-done' }, 'Bootstrap accepted: this node is forming the etcd cluster');
        return confirmJoined(ctx, 'leader', observation);
      }
    }
  }
}

/**
 * After a bootstrap (ours or another node's): wait for this node's etcd, then — on the leader — for every
 * control plane of the quorum, then check that all of them report one cluster.
 */
async function confirmJoined(ctx: RunnerContext, role: 'leader' | 'follower', quorumView: Observation): Promise<RunResult> {
  const { config, log, io, signal } = ctx;
  const now = ctx.now ?? Date.now;
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
    await sleep(config.followerCheckIntervalMs, signal);
  }
  log.info({ event: 'local-etcd-healthy' }, "this node's etcd is running and healthy");

  let running: string[] = [];
  for (;;) {
    const { observation } = await io.observe();
    running = observation.controlPlanes.filter((c) => c.etcd === 'running').map((c) => c.address).sort(compareIPv4);
    const pending = role === 'leader' ? quorumView.controlPlanes.map((c) => c.address).filter((a) => !running.includes(a)) : [];
    if (pending.length === 0) break;
    if (now() > deadline) {
      log.error({ event: 'join-timeout', pending }, `control planes did not join within ${formatDuration(JOIN_WAIT_MS)}: ${pending.join(', ')}; check their etcd logs (talosctl -n NODE logs etcd)`);
      return { exitCode: EXIT.FAILURE, reason: 'control planes did not join' };
    }
    progress.note(pending.join(','), { event: 'waiting-join', pending }, `waiting for ${pending.join(', ')} to join etcd`);
    await sleep(config.followerCheckIntervalMs, signal);
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
        { event: 'cluster-healthy', role, members: verdict.memberIds, controlPlanes: running },
        `one etcd cluster with ${verdict.memberIds.length} member(s); control planes running etcd: ${running.join(', ')}`,
      );
      return { exitCode: EXIT.OK, reason: role === 'leader' ? 'bootstrapped' : 'joined' };
    }
    if (now() > deadline) {
      log.error({ event: 'membership-unconfirmed', silent }, `could not confirm one cluster: no membership from ${silent.join(', ')}`);
      return { exitCode: EXIT.FAILURE, reason: 'membership unconfirmed' };
    }
    progress.note(silent.join(','), { event: 'waiting-membership', silent }, `waiting for the member lists of ${silent.join(', ')}`);
    await sleep(config.followerCheckIntervalMs, signal);
  }
}
