// The pure decision core driven by fuzzed observations (the candidates every round collects, merged by
// identity as discovery does, then decide()): any boot times (0, huge, equal), duplicate identities, init
// nodes, etcd states, member-list outcomes, quorum sizes and armed leaders. decide never throws, and it
// says "bootstrap" only when the evidence proves it may: this node armed, verified, the oldest of at least
// the quorum of distinct control planes, no init node, every control plane positively answering with an
// empty etcd data directory and an etcd service in which no etcd runs, and the member list having answered
// without a cluster. And the one-cluster verdict never calls a split one cluster.
import { afterAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { decide } from '../../src/bootstrap/core/decide.ts';
import { compareCandidates } from '../../src/bootstrap/core/elect.ts';
import type { Candidate, EtcdEvidence, MemberListResult, Observation } from '../../src/bootstrap/core/observation.ts';
import { oneCluster } from '../../src/bootstrap/core/one-cluster.ts';
import { mergeByIdentity } from '../../src/discovery/merge-identities.ts';
import { check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'decision.test.ts';
const SELF = '10.0.0.1';
/** This node's identity (the identities below are a..e; this node is the first). */
const SELF_ID = 'a';
/** Every shape of etcd evidence a peer reply can produce, the bootstrapping one most often. */
const NOT_RUNNING: EtcdEvidence = { service: { kind: 'not-running', fact: { state: 'Preparing', lastEvent: 'Running pre state' } }, dataDir: { kind: 'empty' } };
const etcd: fc.Arbitrary<EtcdEvidence> = fc.constantFrom<EtcdEvidence>(
  NOT_RUNNING,
  NOT_RUNNING,
  { service: { kind: 'not-running', fact: { state: 'Failed', lastEvent: 'Failed to run pre stage' } }, dataDir: { kind: 'empty' } },
  { service: { kind: 'not-running', fact: { state: 'Preparing', lastEvent: 'Running pre state' } }, dataDir: { kind: 'has-data', entries: ['member'] } },
  { service: { kind: 'not-running', fact: { state: 'Preparing', lastEvent: 'Running pre state' } }, dataDir: { kind: 'unknown', why: 'List INTERNAL' } },
  { service: { kind: 'running', fact: { state: 'Running', lastEvent: 'Health check successful' } }, dataDir: { kind: 'has-data', entries: ['member'] } },
  { service: { kind: 'bootstrap-requested', fact: { state: 'Finished', lastEvent: 'Bootstrap requested' } }, dataDir: { kind: 'empty' } },
  { service: { kind: 'unknown', why: 'ServiceList UNAVAILABLE' }, dataDir: { kind: 'empty' } },
  { service: { kind: 'unknown', why: 'etcd service state Stopping', fact: { state: 'Stopping', lastEvent: '' } }, dataDir: { kind: 'unknown', why: 'empty reply to the listing' } },
);
const positivelyEmpty = (c: Candidate): boolean => c.etcd.service.kind === 'not-running' && c.etcd.dataDir.kind === 'empty';
const address = fc.oneof(fc.constantFrom(SELF, '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.1.9'), fc.integer({ min: 1, max: 254 }).map((h) => `10.0.0.${h}`));
const bootTime = fc.oneof(fc.constantFrom(0n, 1n, 1_700_000_000n, 1_700_000_000n, 2n ** 63n, 2n ** 64n - 1n), fc.bigInt({ min: -10n, max: 2n ** 64n }));
const candidate: fc.Arbitrary<Candidate> = fc.record({
  address,
  identity: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
  hostname: fc.string({ maxLength: 6 }),
  bootTime,
  machineType: fc.constantFrom('controlplane', 'controlplane', 'controlplane', 'init', 'worker', 'unknown'),
  stage: fc.constantFrom('running', 'booting', 'maintenance', ''),
  etcd,
}) as fc.Arbitrary<Candidate>;
const memberList: fc.Arbitrary<MemberListResult> = fc.oneof(
  fc.record({ kind: fc.constant('ok' as const), memberIds: fc.array(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }).map(String), { maxLength: 3 }) }),
  fc.record({ kind: fc.constantFrom('failed' as const, 'timed-out' as const, 'no-answer' as const), message: fc.string({ maxLength: 10 }) }),
  fc.constant({ kind: 'pending' as const }),
);

/** An observation as discovery assembles it: control planes merged by identity, this node keeping its address. */
const observation: fc.Arbitrary<Observation> = fc
  .record({ cps: fc.array(candidate, { maxLength: 7 }), others: fc.array(candidate, { maxLength: 2 }), memberList, rejected: fc.array(fc.record({ address, reason: fc.string({ maxLength: 5 }) }), { maxLength: 2 }) })
  .map(({ cps, others, memberList: ml, rejected }) => ({
    selfAddress: SELF,
    selfIdentity: SELF_ID,
    controlPlanes: mergeByIdentity(
      cps.filter((c) => c.machineType === 'controlplane' || c.machineType === 'init'),
      SELF,
    ),
    others,
    rejected,
    memberList: ml,
  }));

/**
 * Near the bootstrapping case: this node and up to four peers, distinct identities, this node the oldest,
 * every etcd not running, the member list failing, this node armed; then up to three random changes to it
 * (a field of a candidate, a duplicate identity, another member-list outcome, another armed leader).
 */
const nearBootstrap: fc.Arbitrary<{ obs: Observation; armed: string | undefined }> = fc
  .tuple(
    fc.integer({ min: 0, max: 4 }),
    fc.array(
      fc.oneof(
        fc.record({ kind: fc.constant('field' as const), i: fc.nat(), c: candidate, key: fc.constantFrom('address', 'identity', 'bootTime', 'machineType', 'etcd') }),
        fc.record({ kind: fc.constant('duplicate' as const), i: fc.nat(), address }),
        fc.record({ kind: fc.constant('memberList' as const), memberList }),
        fc.record({ kind: fc.constant('armed' as const), armed: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { nil: undefined }) }),
      ),
      { maxLength: 3 },
    ),
  )
  .map(([peers, changes]) => {
    const base = (i: number): Candidate => ({ address: `10.0.0.${i + 1}`, identity: String.fromCharCode(97 + i), hostname: `cp${i + 1}`, bootTime: 1_700_000_000n + BigInt(i), machineType: 'controlplane', stage: 'running', etcd: NOT_RUNNING });
    let cps = Array.from({ length: peers + 1 }, (_, i) => base(i));
    let ml: MemberListResult = { kind: 'failed', message: 'no endpoints' };
    let armed: string | undefined = SELF_ID;
    for (const ch of changes) {
      const i = 'i' in ch ? ch.i % cps.length : 0;
      if (ch.kind === 'field') cps[i] = { ...cps[i]!, [ch.key]: ch.c[ch.key] };
      if (ch.kind === 'duplicate') cps = [...cps, { ...cps[i]!, address: ch.address }];
      if (ch.kind === 'memberList') ml = ch.memberList;
      if (ch.kind === 'armed') armed = ch.armed;
    }
    const controlPlanes = mergeByIdentity(cps.filter((c) => c.machineType === 'controlplane' || c.machineType === 'init'), SELF);
    return { obs: { selfAddress: SELF, selfIdentity: SELF_ID, controlPlanes, others: [], rejected: [], memberList: ml }, armed };
  });

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('decision core', () => {
  test('bootstrap only on proof, never an exception', () => {
    let bootstraps = 0;
    check(
      FILE,
      'bootstrap only on proof',
      fc.property(
        fc.oneof(fc.record({ obs: observation, armed: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { nil: undefined }) }), nearBootstrap, nearBootstrap),
        fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 7 })),
        ({ obs, armed }, quorumNodes) => {
        const r = outcome(() => decide({ observation: obs, quorumNodes, armed }), []);
        if (!r.ok) return;
        expect(r.value.message.length).toBeGreaterThan(0);
        if (r.value.kind !== 'bootstrap') return;
        bootstraps++;
        const cps = obs.controlPlanes;
        const self = cps.find((c) => c.identity === SELF_ID);
        expect(armed).toBe(SELF_ID);
        expect(self).toBeDefined();
        expect(new Set(cps.map((c) => c.identity)).size).toBeGreaterThanOrEqual(quorumNodes);
        expect(cps.some((c) => c.machineType === 'init')).toBe(false);
        expect(cps.every(positivelyEmpty)).toBe(true);
        // The member list is extra evidence: it must have given its outcome, and that outcome must not be a cluster.
        expect(['failed', 'timed-out', 'no-answer']).toContain(obs.memberList.kind);
        for (const c of cps) expect(compareCandidates(self!, c)).toBeLessThanOrEqual(0);
        },
      ),
    );
    // The generators reach the interesting case: a property never exercised would prove nothing.
    if (!process.env.FUZZ_PATH) expect(bootstraps).toBeGreaterThan(0);
  });

  test('the same observation gives every node the same leader (followers name it)', () => {
    check(
      FILE,
      'the same observation gives every node the same leader',
      fc.property(observation, fc.integer({ min: 1, max: 5 }), (obs, quorumNodes) => {
        // Each verified control plane decides from the same candidates with itself as self.
        const leaders = new Set<string>();
        for (const c of obs.controlPlanes) {
          const d = decide({ observation: { ...obs, selfAddress: c.address, selfIdentity: c.identity }, quorumNodes, armed: c.identity });
          if (d.kind === 'bootstrap' || d.kind === 'arm') leaders.add(c.address);
          if (d.kind === 'wait' && d.leader) leaders.add(d.leader);
        }
        expect(leaders.size).toBeLessThanOrEqual(1);
      }),
    );
  });

  test('one-cluster verdict over any membership views: one exactly when the member lists are connected', () => {
    const view = fc.record({ address, memberIds: fc.array(fc.constantFrom('1', '2', '3', '4', '5'), { maxLength: 4 }) });
    check(
      FILE,
      'one-cluster verdict',
      fc.property(fc.array(view, { maxLength: 5 }), (views) => {
        const r = outcome(() => oneCluster(views), []);
        if (!r.ok) return;
        // Connected: every view reaches every other through member lists that share a member.
        const reached = new Set<number>(views.length > 0 ? [0] : []);
        for (let grew = true; grew; ) {
          grew = false;
          for (const i of [...reached]) {
            views.forEach((v, j) => {
              if (!reached.has(j) && v.memberIds.some((m) => views[i]!.memberIds.includes(m))) {
                reached.add(j);
                grew = true;
              }
            });
          }
        }
        expect(r.value.kind).toBe(reached.size === views.length ? 'one' : 'split');
      }),
    );
  });
});
