// Plan-wide rules, one table each: autobootstrap's ExtensionServiceConfig on every control plane (valid by the
// daemon's own validation, one quorum, a majority), one node behind several addresses, --cert-fingerprint
// values as talosctl reads them, and a disk selector that matches several disks.
import { describe, expect, test } from 'bun:test';
import { X509Certificate, createHash } from 'node:crypto';
import type { NodeConfig } from '../../src/cli/inputs/node-config.ts';
import type { NodeTarget } from '../../src/cli/inputs/target.ts';
import { parseFingerprint, spkiFingerprint } from '../../src/cli/nodes/fingerprint.ts';
import { checkInstallDisk, type DiskInfo } from '../../src/cli/rules/disk-selector.ts';
import { planChecks, type PlanCheck } from '../../src/cli/rules/plan-checks.ts';
import { groupSameNodes } from '../../src/cli/rules/same-node.ts';
import { createOsCa, issueApidCertificate } from '../sim/index.ts';

const config = (env: string[] | undefined, name = 'autobootstrap'): NodeConfig => ({
  path: '/c/cp.yaml',
  data: Buffer.from(''),
  facts: { machineType: 'controlplane', etcdConfigured: true, caKeyPem: 'k' },
  install: { disk: '/dev/sda' },
  machineTypeSet: true,
  extensionServiceConfigs: env === undefined ? [] : [{ name, environment: env }],
});
const q = (n: number, extra: string[] = []) => [`TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=${n}`, ...extra];
const plan = (...envs: (string[] | undefined)[]) => planChecks(envs.map((env, i) => ({ node: `cp${i + 1}`, config: config(env) })));
const failures = (checks: PlanCheck[]) => checks.filter((c) => c.result === 'fail').map((c) => `${c.name}: ${c.detail}`);

describe('planChecks', () => {
  const rows: [string, PlanCheck[], RegExp[]][] = [
    ['three control planes, quorum 2 on each: passes', plan(q(2), q(2), q(2)), []],
    ['one control plane without the document', plan(q(2), undefined, q(2)), [/^extension-config: cp2: no "ExtensionServiceConfig" document named autobootstrap/]],
    ['a document of another extension only', planChecks([{ node: 'cp1', config: config(q(1), 'other') }]), [/^extension-config: cp1: no "ExtensionServiceConfig" document named autobootstrap/]],
    ['quorum 1 on one of three: disagreement and no majority', plan(q(2), q(1), q(2)), [/^quorum-agreement: the control planes disagree: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2 on cp1, cp3; TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=1 on cp2/, /^quorum-majority: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=1 is no majority of the plan's 3 control planes/]],
    ['quorum 2 of four control planes: no majority', plan(q(2), q(2), q(2), q(2)), [/^quorum-majority: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2 is no majority of the plan's 4/]],
    ['a variable the daemon refuses, by the daemon\'s own validation', plan(q(2), q(2, ['TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL=fast']), q(2)), [/^extension-config: cp2: TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL=fast: expected a duration/]],
    ['quorum missing', plan(q(2), ['LOG_LEVEL=info'], q(2)), [/^extension-config: cp2: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: required/, /^quorum-agreement: .*TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=\(unset\) on cp2/]],
    ['CONTROL_PLANES set on some only', plan(q(2, ['TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3']), q(2), q(2, ['TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3'])), [/^quorum-agreement: the control planes disagree: TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3 on cp1, cp3; unset on cp2/]],
    ['CONTROL_PLANES=5 with quorum 2: no majority of N', plan(...[1, 2, 3].map(() => q(2, ['TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=5']))), [
      // The daemon's own validation refuses it on every node (exit 2), and the plan says why.
      ...[1, 2, 3].map((i) => new RegExp(`^extension-config: cp${i}: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2: must be from 3 \\(a majority of TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=5\\)`)),
      /^quorum-majority: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2 is no majority of TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=5/,
    ]],
    ['CONTROL_PLANES below the plan\'s count', plan(...[1, 2, 3].map(() => q(2, ['TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=2']))), [/^quorum-majority: TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=2, but the plan has 3 control planes/]],
  ];
  for (const [name, checks, expected] of rows) {
    test(name, () => {
      const got = failures(checks);
      expect(got).toHaveLength(expected.length);
      for (const re of expected) expect(got.some((g) => re.test(g))).toBe(true);
    });
  }
  test('a quorum above a partial plan is a warning, not a failure', () => {
    const checks = plan(q(3));
    expect(failures(checks)).toEqual([]);
    expect(checks.find((c) => c.result === 'warn')?.detail).toMatch(/more than the plan's 1 control plane/);
  });
});

describe('groupSameNodes', () => {
  const t = (address: string, file: string): NodeTarget => ({ address, file, name: file });
  test('two addresses, one file, one certificate: one node; unknown addresses stand alone', () => {
    const r = groupSameNodes([t('a', 'cp1'), t('b', 'cp1'), t('c', 'cp1'), t('d', 'cp2')], new Map([['a', 'F1'], ['b', 'F1'], ['d', 'F2']]));
    expect(r.groups.map((g) => [g.primary.address, g.aliases.map((x) => x.address)])).toEqual([['a', ['b']], ['c', []], ['d', []]]);
    expect(r.conflicts).toEqual([]);
  });
  test('three nodes sharing one config file but serving different certificates: three nodes', () => {
    expect(groupSameNodes([t('a', 'cp'), t('b', 'cp'), t('c', 'cp')], new Map([['a', '1'], ['b', '2'], ['c', '3']])).groups).toHaveLength(3);
  });
  test('one certificate behind two addresses given different files: a conflict', () => {
    const r = groupSameNodes([t('a', 'cp1'), t('b', 'cp2')], new Map([['a', 'F'], ['b', 'F']]));
    expect(r.conflicts.map((c) => [c.first.address, c.second.address])).toEqual([['a', 'b']]);
  });
});

describe('certificate fingerprints as talosctl computes them', () => {
  test('SHA-256 of the SPKI, base64', () => {
    const cert = new X509Certificate(issueApidCertificate(createOsCa(), { hostname: 'n', ip: '10.0.0.1' }).certPem);
    const expected = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    expect(spkiFingerprint(cert)).toBe(expected);
    expect(parseFingerprint(expected)).toBe(expected);
  });
  test('values talosctl would refuse are refused', () => {
    for (const bad of ['', 'not base64!', Buffer.alloc(16).toString('base64'), 'AA:BB:CC']) expect(parseFingerprint(bad)).toBeUndefined();
  });
});

describe('a selector matching several disks', () => {
  const SSD: DiskInfo = { id: 'sda', dev_path: '/dev/sda', size: 500e9, pretty_size: '500 GB', model: 'Samsung 870', transport: 'sata', rotational: false };
  const NVME: DiskInfo = { id: 'nvme0n1', dev_path: '/dev/nvme0n1', size: 2e12, pretty_size: '2.0 TB', model: 'data', transport: 'nvme', rotational: false };
  test('type ssd with a 500 GB SSD and a 2 TB NVMe: the first by name is wiped, the other named in a warning', () => {
    const r = checkInstallDisk({ diskSelector: { type: 'ssd' } }, [SSD, NVME]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.disk.id).toBe('nvme0n1');
    expect(r.warning).toMatch(/^diskSelector \{"type":"ssd"\} matches 2 disks: Talos installs to the first by name, \/dev\/nvme0n1, 2\.0 TB, model "data", transport nvme, and WIPES it; also matched: \/dev\/sda, 500 GB/);
  });
  test('one match: no warning', () => {
    const r = checkInstallDisk({ diskSelector: { type: 'nvme' } }, [SSD, NVME]);
    expect(r.ok && r.warning).toBeUndefined();
  });
});
