// Replies the daemon trusts from peers (and from its own apid): COSI resources whose yaml_spec is garbage,
// oversized, of the wrong types, alias bombs, with missing metadata; Members watch events; service lists;
// /proc/stat boot times. Each reply becomes plain data or a clear TalosCallError(DATA_LOSS); nothing else
// is thrown, and what comes out has the types the decisions rely on.
import { afterAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { etcdServiceFromList } from '../../src/discovery/inspect-peer.ts';
import { applyMemberEvent, controlPlaneAddresses, emptyWatchState, parseMember, type EventType } from '../../src/discovery/members.ts';
import { parseBootTime } from '../../src/host/boot-time.ts';
import { localMemberId, machineStage, memberIdFromHex } from '../../src/talos/machine-state.ts';
import { resourceFromReply, TalosCallError, type RawResource } from '../../src/talos/node-client.ts';
import { isIPv4 } from '../../src/util/ipv4.ts';
import { billionLaughs, check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'peer-replies.test.ts';
const U64_MAX = 2n ** 64n - 1n;

/** yaml_spec text: the right shape with wrong types, arbitrary YAML, garbage, oversized, alias bombs. */
const field = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('running', 'maintenance', 'controlplane', 'init', 'worker', '', '00000000ffffffff', 'ffffffffffffffffff', 'xyz', '-1'));
const yamlSpec = fc.oneof(
  fc.record({ stage: field, memberID: field, synced: field, addresses: fc.oneof(field, fc.array(field, { maxLength: 4 })), hostname: field, machineType: field }, { requiredKeys: [] }).map((o) => stringify(o)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v)),
  fc.string({ maxLength: 400 }),
  fc.string({ unit: 'binary', maxLength: 400 }),
  // grpc-js refuses messages over 4 MiB by default: the largest spec a reply can carry.
  fc.integer({ min: 1, max: 4 * 2 ** 20 - 64 }).map((n) => `stage: ${'x'.repeat(n)}\n`),
  fc.tuple(fc.integer({ min: 1, max: 14 }), fc.integer({ min: 2, max: 14 })).map(([d, f]) => `${billionLaughs(d, f)}stage: *lol${d}\nmemberID: *lol${d}\naddresses: *lol${d}\n`),
);
const metadata = fc.option(fc.record({ id: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), version: fc.option(fc.string({ maxLength: 5 }), { nil: undefined }), phase: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined });
const raw: fc.Arbitrary<RawResource> = fc.record({ metadata, spec: fc.option(fc.record({ yaml_spec: fc.option(yamlSpec, { nil: undefined }) }, { requiredKeys: [] }), { nil: undefined }) }, { requiredKeys: [] });

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('peer replies', () => {
  test('COSI resources: plain data or DATA_LOSS; every reader of a spec returns its declared type', () => {
    check(
      FILE,
      'COSI resources',
      fc.property(raw, (r) => {
        const got = outcome(() => resourceFromReply(r, 'Get'), [TalosCallError]);
        if (!got.ok) {
          expect((got.error as TalosCallError).code).toBe(grpc.status.DATA_LOSS);
          expect(got.error.message.length).toBeLessThan(300);
          return;
        }
        const res = got.value;
        const stage = outcome(() => machineStage(res), []);
        if (stage.ok && stage.value !== undefined) expect(typeof stage.value === 'string' && stage.value.length > 0).toBe(true);
        const member = outcome(() => localMemberId(res), []);
        if (member.ok && member.value !== undefined) expect(/^\d+$/.test(member.value) && BigInt(member.value) <= U64_MAX).toBe(true);
        const m = outcome(() => parseMember(res.id, res.spec), []);
        if (m.ok && m.value) for (const a of m.value.addresses) expect(isIPv4(a)).toBe(true);
      }),
    );
  });

  test('member ids in hex: undefined or a uint64 in decimal', () => {
    check(
      FILE,
      'member ids in hex',
      fc.property(fc.oneof(fc.string({ maxLength: 24 }), fc.bigInt({ min: 0n, max: 2n ** 70n }).map((n) => n.toString(16))), (hex) => {
        const r = outcome(() => memberIdFromHex(hex), []);
        if (r.ok && r.value !== undefined) expect(BigInt(r.value) <= U64_MAX).toBe(true);
      }),
    );
  });

  test('a Members watch fed any events: only IPv4 control-plane addresses, never self', () => {
    const event = fc.record({
      type: fc.constantFrom<EventType>('CREATED', 'UPDATED', 'DESTROYED', 'BOOTSTRAPPED', 'ERRORED', 'NOOP'),
      id: fc.string({ maxLength: 6 }),
      spec: fc.oneof(fc.constant(null), fc.jsonValue({ maxDepth: 3 }), fc.record({ addresses: fc.array(fc.oneof(fc.constantFrom('10.0.0.1', '10.0.0.2', '::1', '10.0.0.300'), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 }), machineType: field, hostname: field }, { requiredKeys: [] })),
      error: fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
    });
    check(
      FILE,
      'a Members watch fed any events',
      fc.property(fc.array(event, { maxLength: 20 }), (events) => {
        const state = emptyWatchState();
        for (const e of events) void outcome(() => applyMemberEvent(state, e), []);
        const addrs = outcome(() => controlPlaneAddresses(state.members.values(), '10.0.0.1'), []);
        if (addrs.ok) for (const a of addrs.value) expect(isIPv4(a) && a !== '10.0.0.1').toBe(true);
      }),
    );
  });

  test('service lists: etcd running only when it says Running, not running only in a state without an etcd process', () => {
    const svc = fc.record({
      id: fc.constantFrom('etcd', 'apid', 'kubelet', '', 'ETCD'),
      state: fc.oneof(fc.constantFrom('Running', 'Preparing', 'Waiting', 'Failed', 'Finished', 'Stopping', 'Unknown', ''), fc.string({ maxLength: 8 })),
      healthy: fc.boolean(),
      lastEvent: fc.oneof(fc.constantFrom('', 'Running pre state', 'Bootstrap requested'), fc.string({ maxLength: 12 })),
    });
    check(
      FILE,
      'service lists',
      fc.property(fc.array(svc, { maxLength: 6 }), (list) => {
        const r = outcome(() => etcdServiceFromList(list), []);
        const etcd = list.find((s) => s.id === 'etcd');
        if (r.ok && r.value.kind === 'running') expect(etcd?.state).toBe('Running');
        // Positively not running only in a state where machined runs no etcd process, never an unknown one.
        if (r.ok && r.value.kind === 'not-running') expect(['Initialized', 'Starting', 'Waiting', 'Preparing', 'Failed', 'Finished', 'Skipped']).toContain(etcd?.state ?? '(absent)');
        if (r.ok && r.value.kind === 'bootstrap-requested') expect(etcd?.lastEvent).toBe('Bootstrap requested');
      }),
    );
  });

  test('/proc/stat boot times: undefined or the digits it says', () => {
    const stat = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.string({ maxLength: 40 }), fc.oneof(fc.bigInt({ min: -5n, max: 2n ** 80n }).map(String), fc.string({ maxLength: 25 })), fc.string({ maxLength: 40 })).map(([a, n, b]) => `${a}\nbtime ${n}\n${b}`),
    );
    check(
      FILE,
      '/proc/stat boot times',
      fc.property(stat, (t) => {
        const r = outcome(() => parseBootTime(t), []);
        if (r.ok && r.value !== undefined) expect(r.value >= 0n).toBe(true);
      }),
    );
  });
});
