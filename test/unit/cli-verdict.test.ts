// verify's and status's conclusions, preflight's checks and what a failed insecure probe means.
import { describe, expect, test } from 'bun:test';
import { X509Certificate } from 'node:crypto';
import { shortTransportError, type InsecureLook } from '../../src/cli/nodes/connect.ts';
import { classifyNode, type TrustedCa } from '../../src/cli/nodes/identify-node.ts';
import { preflightChecks, type PreflightInput } from '../../src/cli/rules/preflight-checks.ts';
import { extColumn } from '../../src/cli/commands/status.ts';
import { memberIdFromHex } from '../../src/talos/machine-state.ts';
import { createCa, createOsCa, issueApidCertificate } from '../sim/index.ts';
import { clusterVerdict, stuckReason, verifyDone, type NodeObservation } from '../../src/cli/rules/verdict.ts';
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
    expect(clusterVerdict([cp('cp1'), cp('cp2'), cp('cp3'), worker('w1')])).toMatchObject({ kind: 'healthy', text: 'healthy single cluster: 3 control planes, all voting members of one etcd cluster of 3 members' });
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
  test('all known control planes joined, but a node of unknown role unseen: never "healthy"', () => {
    const n9: NodeObservation = { name: 'n9', address: '10.0.0.9', reach: 'unreachable', detail: 'connect ECONNREFUSED' };
    expect(clusterVerdict([cp('cp1'), cp('cp2'), cp('cp3'), n9])).toMatchObject({ kind: 'degraded', problems: [{ node: 'n9', problem: 'unreachable (connect ECONNREFUSED)' }] });
    expect(clusterVerdict([cp('cp1'), cp('cp2'), cp('cp3'), { ...n9, reach: 'unknown' }]).kind).toBe('degraded');
  });
  test('a running etcd whose own id is missing from the list is not yet counted as joined', () => {
    expect(clusterVerdict([cp('cp1'), cp('cp2'), cp('cp3', { etcdMemberId: '999' })]).kind).toBe('degraded');
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
  test('etcd running but its membership unreadable: named as stuck, with the next step', () => {
    const s = stuckReason(cp('cp2', { etcdMembers: undefined, etcdMemberId: undefined, detail: 'etcd membership unreadable: deadline exceeded' }), 'bootstrapping', hint);
    expect(s?.state).toBe('etcd running, membership unreadable (etcd membership unreadable: deadline exceeded)');
    expect(s?.next).toMatch(/talosctl -n 10\.0\.0\.2 etcd members/);
  });
  test('a node that proves neither maintenance nor its config: cannot tell, and how to check', () => {
    const s = stuckReason(cp('cp2', { reach: 'unknown', detail: 'neither in maintenance nor known to be configured' }), 'unknown', hint);
    expect(s?.state).toBe('cannot tell what it is (neither in maintenance nor known to be configured)');
  });
  test('workers and healthy control planes are not stuck; verify is done only when the cluster is healthy', () => {
    const nodes = [cp('cp1'), cp('cp2'), cp('cp3'), worker('w1', { stage: 'booting' })];
    expect(verifyDone(nodes, clusterVerdict(nodes), () => hint)).toEqual({ done: true, stuck: [] });
    const early = [cp('cp1', waiting('cp1')), worker('w1')];
    expect(verifyDone(early, clusterVerdict(early), () => hint).done).toBe(false);
  });
});

describe('classifyNode: what a node is, never read from an error text', () => {
  const osCa = createOsCa();
  const cas: TrustedCa[] = [{ pem: osCa.certPem, what: 'the OS CA in cp1.yaml' }];
  const configuredCert = { kind: 'certificate' as const, chain: [new X509Certificate(issueApidCertificate(osCa, { hostname: 'cp1', ip: '10.0.0.1' }).certPem)] };
  const perBootCa = createCa({ organization: 'talos', kind: 'ed25519', years: 1 });
  const maintenanceCert = { kind: 'certificate' as const, chain: [new X509Certificate(issueApidCertificate(perBootCa, { hostname: 'cp1', ip: '10.0.0.1' }).certPem)] };
  // What grpc-js reports for an insecure call to a configured apid, depending on the TLS stack at each end.
  const refusals = [
    'No connection established. Last error: error:1000045c:SSL routines:OPENSSL_internal:TLSV1_ALERT_CERTIFICATE_REQUIRED (2026-01-01T00:00:00.000Z). Resolution note: ',
    'No connection established. Last error: error:0A000412:SSL routines::sslv3 alert bad certificate (2026-01-01T00:00:00.000Z). Resolution note: ',
    'No connection established. Last error: Failed to connect (2026-01-01T00:00:00.000Z). Resolution note: ',
    'connection error: desc = "transport is closing"',
  ];
  const failing = (detail: string) => async (): Promise<InsecureLook> => ({ kind: 'failed', detail });

  for (const text of refusals) {
    test(`certificate from the given CA → configured, whatever the refusal said (${text.slice(40, 90)})`, async () => {
      expect(await classifyNode(configuredCert, cas, failing(text))).toMatchObject({ kind: 'configured', detail: 'its apid certificate chains to the OS CA in cp1.yaml' });
    });
    test(`certificate from no given CA and refused → unknown, never configured (${text.slice(40, 90)})`, async () => {
      const r = await classifyNode(configuredCert, [], failing(text));
      expect(r.kind).toBe('unknown');
      expect(r.kind === 'unknown' && r.detail).toContain(shortTransportError(text));
    });
  }
  test('per-boot certificate and MachineStatus stage maintenance → maintenance', async () => {
    expect(await classifyNode(maintenanceCert, cas, async () => ({ kind: 'stage', stage: 'maintenance' }))).toEqual({ kind: 'maintenance' });
  });
  test('answers insecurely with another stage → unknown, said so', async () => {
    const r = await classifyNode(maintenanceCert, cas, async () => ({ kind: 'stage', stage: 'running' }));
    expect(r).toMatchObject({ kind: 'unknown' });
    expect(r.kind === 'unknown' && r.detail).toMatch(/chains to none of: the OS CA in cp1.yaml; without a client certificate it says stage running$/);
  });
  test('no TCP connection or no handshake in time → unreachable, without asking further', async () => {
    let asked = false;
    const look = async (): Promise<InsecureLook> => ((asked = true), { kind: 'failed', detail: 'x' });
    expect(await classifyNode({ kind: 'closed', reason: 'ECONNREFUSED' }, cas, look)).toEqual({ kind: 'unreachable', detail: 'ECONNREFUSED' });
    expect(await classifyNode({ kind: 'closed', reason: 'no TLS handshake within 3000ms' }, cas, look)).toMatchObject({ kind: 'unreachable' });
    expect(asked).toBe(false);
  });
  test('MachineStatus ran out of its deadline → unknown and slow, never "another CA"', async () => {
    const timedOut = async (): Promise<InsecureLook> => ({ kind: 'failed', detail: 'Deadline exceeded after 1.001s', timedOut: true });
    const r = await classifyNode(maintenanceCert, cas, timedOut);
    expect(r).toEqual({ kind: 'unknown', slow: true, detail: expect.stringContaining('it did not answer MachineStatus within the call timeout (Deadline exceeded after 1.001s)') });
    // Refused instead: a configured apid of another CA, as before.
    expect(await classifyNode(maintenanceCert, cas, failing('TLSV1_ALERT_CERTIFICATE_REQUIRED'))).toMatchObject({ kind: 'unknown', otherCa: true });
  });
  test('a handshake without any certificate and no insecure answer → unknown', async () => {
    expect(await classifyNode({ kind: 'failed', reason: 'ECONNRESET' }, cas, failing('x'))).toMatchObject({ kind: 'unknown' });
  });
  test('transport errors are shortened to what a person needs', () => {
    expect(shortTransportError('No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.1:50000 (2026-01-01T00:00:00.000Z). Resolution note: ')).toBe('connect ECONNREFUSED 10.0.0.1:50000');
  });
});

test('member ids: EtcdMembers/local hex to EtcdMemberList decimal', () => {
  expect(memberIdFromHex('c79213ff864b8697')).toBe(BigInt('0xc79213ff864b8697').toString());
  expect(memberIdFromHex('xyz')).toBeUndefined();
});

test('status: "not installed" only when the service list was read; a configured node seen without credentials is "?"', () => {
  expect(extColumn(worker('w1', { servicesRead: true }))).toBe('not installed');
  expect(extColumn(worker('w1', { servicesRead: undefined, detail: 'has its config; give --talosconfig to look closer' }))).toBe('?');
  expect(extColumn(worker('w1', { reach: 'maintenance' }))).toBe('');
  expect(extColumn(worker('w1', { extState: 'Running' }))).toBe('Running');
});

describe('preflightChecks', () => {
  const facts = (over: Partial<MachineConfigFacts> = {}): MachineConfigFacts => ({ machineType: 'controlplane', etcdConfigured: true, caKeyPem: 'k', ...over });
  const input = (over: Partial<PreflightInput> = {}): PreflightInput => ({
    address: '10.0.0.1',
    probe: { kind: 'maintenance' },
    attempts: 1,
    config: { ok: true, config: { path: '/c/cp1.yaml', data: Buffer.from(''), facts: facts(), install: { disk: '/dev/sda' }, machineTypeSet: true, extensionServiceConfigs: [] } },
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
  test('slow, not refusing: a MachineStatus or disk list that ran out of --call-timeout names the flag and its value', () => {
    const slow = preflightChecks(input({ probe: { kind: 'unknown', detail: 'neither in maintenance nor known to be configured: x', slow: true }, attempts: 2, disks: undefined, callTimeoutMs: 1000 }));
    expect(slow.find((ch) => ch.name === 'maintenance')).toMatchObject({ result: 'fail', detail: 'slow: apid completed the TLS handshake, but MachineStatus did not answer within the call timeout of 1s (2 attempts)' });
    expect(slow.find((ch) => ch.name === 'maintenance')?.fix).toStartWith('on a slow network raise --call-timeout (now 1s); else ');
    const handshake = preflightChecks(input({ probe: { kind: 'unreachable', detail: 'no TLS handshake within 1000ms' }, disks: undefined, callTimeoutMs: 1000 }));
    expect(handshake[0]?.fix).toEndWith('; on a slow network raise --call-timeout (now 1s)');
    const refused = preflightChecks(input({ probe: { kind: 'unreachable', detail: 'connect ECONNREFUSED 10.0.0.1:50000' }, disks: undefined, callTimeoutMs: 1000 }));
    expect(refused[0]?.fix).not.toContain('--call-timeout');
    const disks = preflightChecks(input({ disks: { error: 'Deadline exceeded after 1.001s', timedOut: true }, callTimeoutMs: 1000 }));
    expect(disks.find((ch) => ch.name === 'install-disk')?.fix).toStartWith('on a slow network raise --call-timeout (now 1s)');
  });
  test('already configured, control plane without its CA key, type not set', () => {
    const c = input({ probe: { kind: 'configured', detail: 'its apid certificate chains to the OS CA in cp1.yaml' }, disks: undefined });
    expect(results(c)).toContain('maintenance:fail');
    const unknown = preflightChecks(input({ probe: { kind: 'unknown', detail: 'neither in maintenance nor known to be configured: x' }, disks: undefined }));
    expect(unknown.find((ch) => ch.name === 'maintenance')).toMatchObject({ result: 'fail', detail: 'cannot tell: neither in maintenance nor known to be configured: x' });
    const noKey = input();
    if (noKey.config.ok) noKey.config.config.facts = facts({ caKeyPem: undefined });
    expect(results(noKey)).toContain('ca-key:fail');
    // An unset machine.type is a worker to Talos (machine.ParseType), which applies it: not a refusal
    // (test/oracle/preflight-vs-talos.test.ts holds preflight to Talos's verdict). An unknown type is refused.
    const noType = input();
    if (noType.config.ok) {
      noType.config.config.machineTypeSet = false;
      noType.config.config.facts = facts({ machineType: 'worker', caKeyPem: undefined });
    }
    expect(results(noType)).toContain('machine-type:pass');
    const unknownType = input();
    if (unknownType.config.ok) unknownType.config.config.facts = facts({ machineType: 'unknown' });
    expect(results(unknownType)).toContain('machine-type:fail');
  });
  test('a worker needs no CA key; an unreadable config skips what depends on it', () => {
    const w = input();
    if (w.config.ok) w.config.config.facts = facts({ machineType: 'worker', caKeyPem: undefined });
    expect(results(w)).toContain('ca-key:pass');
    expect(results(input({ config: { ok: false, problem: 'cannot read /c/x.yaml (ENOENT)' } }))).toEqual(['reachable:pass', 'maintenance:pass', 'config:fail', 'machine-type:skip', 'ca-key:skip', 'install-disk:skip']);
  });
});
