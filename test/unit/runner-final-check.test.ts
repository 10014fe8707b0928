// The runner's final check, driven step by step through a fake RunnerIO: the evidence Bootstrap acts on is
// gathered after the arming round is whole, and news from a source during the final round means checking
// again before the call. Assertions are on the order of events, never on how long anything took.
import { describe, expect, test } from 'bun:test';
import { Writable } from 'node:stream';
import { runDaemonLoop, type RunnerIO } from '../../src/bootstrap/runner.ts';
import type { Candidate, MemberListResult, Observation } from '../../src/bootstrap/core/observation.ts';
import type { BootstrapGate, BootstrapGateInput } from '../../src/bootstrap/gate.ts';
import type { EtcdView, LocalEtcd, Round } from '../../src/bootstrap/talos-view.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { emptyCounts } from '../../src/discovery/discover.ts';
import { createLogger } from '../../src/log.ts';
import { Wakeup } from '../../src/util/wakeup.ts';
import { cp, obs } from './core-fixtures.ts';

const SELF = '127.0.0.1';
const PEER = '127.0.0.2';
const NO_CLUSTER: MemberListResult = { kind: 'failed', message: 'no controlplane endpoints discovered yet' };

function config(): Config {
  const loaded = loadConfig({
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '2',
    TALOS_AUTO_BOOTSTRAP_PEERS: PEER,
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static',
    TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '20ms',
    TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '5ms',
    TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '1s',
  });
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
  return loaded.config;
}

const quiet = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));

function observation(memberList: MemberListResult): Observation {
  return obs(SELF, [cp(SELF, 100), cp(PEER, 200)], { memberList });
}

function round(o: Observation, extra: Partial<Round> = {}): Round {
  const r: Round = {
    observation: o,
    discovery: { controlPlanes: o.controlPlanes, others: [], rejected: [], untrusted: [], counts: emptyCounts() },
    discoveryMs: 0,
    members: { kind: 'off' },
    memberList: Promise.resolve(o.memberList),
    partial: false,
    complete: Promise.resolve(undefined as unknown as Round),
    ...extra,
  };
  if (!extra.complete) r.complete = Promise.resolve(r);
  return r;
}

/** Rounds are scripted by the test: `script[i]` answers the i-th observe. Bootstrap ends the run. */
class FakeIO implements RunnerIO {
  readonly events: string[] = [];
  readonly memberListDeadlineMs = 10;
  private rounds = 0;
  constructor(
    private readonly stop: AbortController,
    private readonly script: ((memberList: Promise<MemberListResult>) => Promise<Round>)[],
  ) {}

  startMemberList(): Promise<MemberListResult> {
    this.events.push('member-list');
    return Promise.resolve(NO_CLUSTER);
  }
  observe(memberList?: Promise<MemberListResult>): Promise<Round> {
    const step = this.script[this.rounds++];
    this.events.push(`observe ${this.rounds}`);
    if (!step) throw new Error(`no round ${this.rounds} scripted`);
    return step(memberList ?? this.startMemberList());
  }
  /** Clock the recheck reads its answer time from; `recheckTakesMs` moves it on while rechecking. */
  clock = { t: 0, now: () => this.clock.t };
  recheckTakesMs = 0;
  async recheck(controlPlanes: readonly Candidate[]): Promise<{ kind: 'fresh'; controlPlanes: Candidate[] }> {
    this.events.push('recheck');
    const askedAt = this.clock.t;
    this.clock.t += this.recheckTakesMs;
    return { kind: 'fresh', controlPlanes: controlPlanes.map((c) => ({ ...c, answeredAt: askedAt })) };
  }
  async bootstrapSelf(): Promise<void> {
    this.events.push('bootstrap');
    this.stop.abort();
  }
  async localEtcd(): Promise<LocalEtcd> {
    return { running: false, healthy: false, memberId: undefined, detail: 'not yet' };
  }
  async etcdViews(addresses: string[]): Promise<EtcdView[]> {
    return addresses.map((address) => ({ address, memberIds: undefined, error: 'not yet' }));
  }
}

/** The final round: waits for the member list it is given, as TalosView does before a bootstrap. */
const finalRound = async (memberList: Promise<MemberListResult>) => round(observation(await memberList));

function run(io: FakeIO, stop: AbortController, wakeup = new Wakeup(), gate?: BootstrapGate) {
  return runDaemonLoop({ config: config(), log: quiet, self: SELF, selfIdentity: `id-${SELF}`, io, signal: stop.signal, random: () => 0.5, wakeup, clock: io.clock, ...(gate ? { gate } : {}) });
}

describe('the final check', () => {
  test('an arming round that overruns the settle delay: the final member list is asked only after it is whole', async () => {
    const stop = new AbortController();
    let release!: () => void;
    const io: FakeIO = new FakeIO(stop, [
      // Armed early on a partial round (member list still pending); its scan ends well after the delay.
      async () => {
        const partial = round(observation({ kind: 'pending' }), { partial: true, memberList: new Promise(() => undefined) });
        partial.complete = new Promise<Round>((resolve) => {
          release = () => {
            io.events.push('arming round whole');
            resolve(round(observation({ kind: 'pending' })));
          };
        });
        setTimeout(() => release(), 200);
        return partial;
      },
      finalRound,
    ]);
    await run(io, stop);
    // The first member list is the arming round's own; the second is the final check's.
    expect(io.events).toEqual(['observe 1', 'member-list', 'arming round whole', 'member-list', 'observe 2', 'recheck', 'bootstrap']);
  });

  test('a source rings during the final round: no Bootstrap on it; a fresh round first, then the call', async () => {
    const stop = new AbortController();
    const wakeup = new Wakeup();
    const io = new FakeIO(stop, [
      async () => round(observation(NO_CLUSTER)),
      async (memberList) => {
        const r = await finalRound(memberList);
        wakeup.ring('new control-plane member 127.0.0.3');
        return r;
      },
      finalRound,
    ]);
    await run(io, stop, wakeup);
    // Round 3 asks its own member list (nothing was prefetched for it), then the call.
    expect(io.events.slice(io.events.indexOf('observe 2'))).toEqual(['observe 2', 'observe 3', 'member-list', 'recheck', 'bootstrap']);
  });
});

describe('the age of the evidence (monotonic clock)', () => {
  test('final evidence older than the bound by the time it is whole is asked again, never acted on', async () => {
    const stop = new AbortController();
    const io = new FakeIO(stop, [async () => round(observation(NO_CLUSTER)), ...Array<typeof finalRound>(500).fill(finalRound)]);
    // Every recheck takes 10 s of monotonic time: its answers are older than the bound when it ends.
    io.recheckTakesMs = 10_000;
    const done = run(io, stop);
    setTimeout(() => stop.abort(), 300);
    await done;
    expect(io.events).not.toContain('bootstrap');
    // Three tries per final check, then a pause before a whole new round.
    expect(io.events).toEqual(['observe 1', 'member-list', 'member-list', 'observe 2', 'recheck', 'recheck', 'recheck']);
  });
  test('within the bound the call follows its evidence', async () => {
    const stop = new AbortController();
    const io = new FakeIO(stop, [async () => round(observation(NO_CLUSTER)), finalRound]);
    io.recheckTakesMs = 100;
    await run(io, stop);
    expect(io.events.slice(-2)).toEqual(['recheck', 'bootstrap']);
  });
});

describe('the agreement seam', () => {
  test('the gate sees this node and every verified control plane with fresh evidence; "wait" holds the call', async () => {
    const stop = new AbortController();
    const seen: BootstrapGateInput[] = [];
    let calls = 0;
    const gate: BootstrapGate = async (input) => {
      seen.push(input);
      return ++calls === 1 ? { kind: 'wait', message: 'no value chosen yet', retryInMs: 1 } : { kind: 'proceed' };
    };
    const io = new FakeIO(stop, [async () => round(observation(NO_CLUSTER)), finalRound, finalRound]);
    await run(io, stop, new Wakeup(), gate);
    expect(io.events.filter((e) => e === 'bootstrap')).toHaveLength(1);
    expect(seen).toHaveLength(2);
    expect(seen[0]?.self.identity).toBe(`id-${SELF}`);
    expect(seen[0]?.controlPlanes.map((c) => c.address).sort()).toEqual([SELF, PEER]);
    expect(seen[0]?.quorumNodes).toBe(2);
  });
  test('"other-chosen" never calls Bootstrap', async () => {
    const stop = new AbortController();
    const io = new FakeIO(stop, [async () => round(observation(NO_CLUSTER)), ...Array<typeof finalRound>(500).fill(finalRound)]);
    const done = run(io, stop, new Wakeup(), async () => ({ kind: 'other-chosen', chosen: `id-${PEER}`, message: `${PEER} was chosen` }));
    setTimeout(() => stop.abort(), 300);
    await done;
    expect(io.events).not.toContain('bootstrap');
  });
});
