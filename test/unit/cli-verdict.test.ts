// verify's and status's conclusions, preflight's checks and what a failed insecure probe means.
import { describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { probeOutcome, shortTransportError } from '../../src/cli/connect.ts';
import { memberIdFromHex } from '../../src/cli/observe.ts';
import { preflightChecks, type PreflightInput } from '../../src/cli/preflight-checks.ts';
import { clusterVerdict, stuckReason, verifyDone, type NodeObservation } from '../../src/cli/verdict.ts';
import type { MachineConfigFacts } from '../../src/pki/machine-config.ts';

const cp = (name: string, over: Partial<NodeObservation> = {}): NodeObservation => ({
  name,
  address: `10.0.0.${name.slice(-1)}`,
  reach: 'configured',
  role: 'controlplane',
  stage: 'running',
  etcdState: 'Running',
  etcdMemberId: `${name.slice(-1)}00`,
  etcdMembers: ['100', '200', '300'],
  extState: 'Finished',
  ...over,
});
const worker = (name: string, over: Partial<NodeObservation> = {}): NodeObservation => ({ name, address: `10.0.1.${name.slice(-1)}`, reach: 'configured', role: 'worker', stage: 'running', ...over });
const waiting = (name: string): Partial<NodeObservation> => ({ stage: 'booting', etcdState: 'Preparing', etcdMemberId: undefined, etcdMembers: undefined, extState: 'Running' });

describe('clusterVerdict', () => {
  test('healthy: every control plane runs etcd and is a member of the one cluster', () => {
    expect(clusterVerdict([cp('cp1'), cp('cp2'), cp('cp3'), worker('w1')])).toMatchObject({ kind: 'healthy', text: 'healthy single cluster: 3 control planes, one etcd cluster of 3 members' });
  });
  test('not bootstrapped: every control plane seen, none runs etcd', () => {
    expect(clusterVerdict([cp('cp1', waiting('cp1')), cp('cp2', waiting('cp2'))]).kind).toBe('not-bootstrapped');
  });
  test('one control plane not seen: unknown, never "not bootstrapped"', () => {
    const v = clusterVerdict([cp('cp1', waiting('cp1')), cp('cp2', { reach: 'unreachable', stage: undefined, etcdState: undefined, etcdMembers: undefined })]);
    expect(v).toMatchObject({ kind: 'unknown', text: 'no etcd seen running; cannot see cp2' });
  });
  test('an unreachable node of unknown role might be a control plane: unknown, never "not bootstrapped"', () => {
    const v = clusterVerdict([cp('cp1', waiting('cp1')), { name: 'n9', address: '10.0.0.9', reach: 'unreachable', detail: 'connect ECONNREFUSED' }]);
    expect(v).toMatchObject({ kind: 'unknown', text: 'no etcd seen running; cannot see n9' });
  });
  test('bootstrapping: etcd on some control planes', () => {
    const v = clusterVerdict([cp('cp1', { etcdMembers: ['100'] }), cp('cp2', waiting('cp2')), cp('cp3', waiting('cp3'))]);
    expect(v).toMatchObject({ kind: 'bootstrapping', text: 'bootstrapping: etcd runs on 1/3 control planes; waiting for cp2, cp3' });
  });
  test('split: two member lists that share nobody', () => {
    const v = clusterVerdict([cp('cp1', { etcdMembers: ['100', '200'] }), cp('cp2', { etcdMembers: ['100', '200'] }), cp('cp3', { etcdMembers: ['300'] })]);
    expect(v.kind).toBe('split');
    expect(v.sides).toEqual([['cp1', 'cp2'], ['cp3']]);
    expect(v.text).toMatch(/^SPLIT BRAIN: 2 etcd clusters \(cp1\+cp2 vs cp3\); stop here and recover/);
  });
  test('a running etcd whose own id is missing from the list is not yet counted as joined', () => {
    expect(clusterVerdict([cp('cp1'), cp('cp2'), cp('cp3', { etcdMemberId: '999' })]).kind).toBe('bootstrapping');
  });
});

describe('stuckReason: the state and the next step', () => {
  const hint = 'autobootstrap apply --nodes 10.0.0.2 --file cp2.yaml';
  test('still in maintenance → re-run apply for it', () => {
    expect(stuckReason(cp('cp2', { reach: 'maintenance' }), 'bootstrapping', hint)).toMatchObject({ state: 'still in maintenance (no config)', next: `re-run apply for it: ${hint}` });
  });
  test('unreachable → power and network', () => {
    expect(stuckReason(cp('cp2', { reach: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.2:50000' }), 'unknown', hint)?.next).toMatch(/check power and network/);
  });
  test('control plane waiting for etcd → ext-autobootstrap state and its last lines', () => {
    const s = stuckReason(cp('cp2', { ...waiting('cp2'), extLog: ['{"level":"info","msg":"quorum 2/3: have 10.0.0.1, 10.0.0.2; waiting for one more control plane"}'] }), 'not-bootstrapped', hint);
    expect(s?.state).toBe('waiting for etcd (etcd Preparing)');
    expect(s?.next).toBe('ext-autobootstrap is Running; its last lines: quorum 2/3: have 10.0.0.1, 10.0.0.2; waiting for one more control plane; see talosctl logs ext-autobootstrap -n 10.0.0.2');
  });
  test('no extension on the node is said plainly', () => {
    expect(stuckReason(cp('cp2', { ...waiting('cp2'), extState: undefined }), 'not-bootstrapped', hint)?.next).toMatch(/^ext-autobootstrap is not installed on this node/);
  });
  test('workers and healthy control planes are not stuck; verify is done only when the cluster is healthy', () => {
    const nodes = [cp('cp1'), cp('cp2'), cp('cp3'), worker('w1', { stage: 'booting' })];
    expect(verifyDone(nodes, clusterVerdict(nodes), () => hint)).toEqual({ done: true, stuck: [] });
    const early = [cp('cp1', waiting('cp1')), worker('w1')];
    expect(verifyDone(early, clusterVerdict(early), () => hint).done).toBe(false);
  });
});

describe('probeOutcome: what an insecure call failing says about the node', () => {
  const table: [number, string, string][] = [
    [status.UNAVAILABLE, 'No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:50000 (2026-01-01T00:00:00.000Z). Resolution note: ', 'unreachable'],
    [status.DEADLINE_EXCEEDED, 'deadline exceeded', 'unreachable'],
    [status.UNAVAILABLE, 'No connection established. Last error: Failed to connect (2026-01-01T00:00:00.000Z). Resolution note: ', 'configured'],
    [status.PERMISSION_DENIED, 'not authorized', 'configured'],
    [status.UNAVAILABLE, 'connection error: desc = "transport is closing"', 'unreachable'],
  ];
  for (const [code, message, kind] of table) test(`${status[code]} ${message.slice(0, 60)} → ${kind}`, () => expect(probeOutcome(code, message).kind).toBe(kind as never));
  test('transport errors are shortened to what a person needs', () => {
    expect(shortTransportError('No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:50000 (2026-01-01T00:00:00.000Z). Resolution note: ')).toBe('connect ECONNREFUSED 10.0.0.1:50000');
  });
});

test('member ids: EtcdMembers/local hex to EtcdMemberList decimal', () => {
  expect(memberIdFromHex('c79213ff864b8697')).toBe(BigInt('0xc79213ff864b8697').toString());
  expect(memberIdFromHex('xyz')).toBeUndefined();
});

describe('preflightChecks', () => {
  const facts = (over: Partial<MachineConfigFacts> = {}): MachineConfigFacts => ({ machineType: 'controlplane', etcdConfigured: true, caKeyPem: 'k', ...over });
  const input = (over: Partial<PreflightInput> = {}): PreflightInput => ({
    address: '10.0.0.1',
    probe: { kind: 'maintenance' },
    attempts: 1,
    config: { ok: true, config: { path: '/c/cp1.yaml', data: Buffer.from(''), facts: facts(), install: { disk: '/dev/sda' }, machineTypeSet: true } },
    disks: [{ id: 'sda', dev_path: '/dev/sda', size: 1, transport: 'virtio' }],
    ...over,
  });
  const results = (i: PreflightInput) => preflightChecks(i).map((c) => `${c.name}:${c.result}`);
  test('all pass', () => {
    expect(results(input())).toEqual(['reachable:pass', 'maintenance:pass', 'config:pass', 'machine-type:pass', 'ca-key:pass', 'install-disk:pass']);
  });
  test('unreachable after its attempts: named with the fix; disks skipped', () => {
    const checks = preflightChecks(input({ probe: { kind: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.1:50000' }, attempts: 3, disks: undefined }));
    expect(checks.map((c) => `${c.name}:${c.result}`)).toEqual(['reachable:fail', 'maintenance:skip', 'config:pass', 'machine-type:pass', 'ca-key:pass', 'install-disk:skip']);
    expect(checks[0]?.detail).toBe('no answer on 10.0.0.1:50000 after 3 attempts (connect ECONNREFUSED 10.0.0.1:50000)');
    expect(checks[0]?.fix).toMatch(/power the node on/);
  });
  test('already configured, control plane without its CA key, type not set', () => {
    const c = input({ probe: { kind: 'configured', detail: 'apid refused a client without a certificate: the node has its config' }, disks: undefined });
    expect(results(c)).toContain('maintenance:fail');
    const noKey = input();
    if (noKey.config.ok) noKey.config.config.facts = facts({ caKeyPem: undefined });
    expect(results(noKey)).toContain('ca-key:fail');
    const noType = input();
    if (noType.config.ok) noType.config.config.machineTypeSet = false;
    expect(results(noType)).toContain('machine-type:fail');
  });
  test('a worker needs no CA key; an unreadable config skips what depends on it', () => {
    const w = input();
    if (w.config.ok) w.config.config.facts = facts({ machineType: 'worker', caKeyPem: undefined });
    expect(results(w)).toContain('ca-key:pass');
    expect(results(input({ config: { ok: false, problem: 'cannot read /c/x.yaml (ENOENT)' } }))).toEqual(['reachable:pass', 'maintenance:pass', 'config:fail', 'machine-type:skip', 'ca-key:skip', 'install-disk:skip']);
  });
});
