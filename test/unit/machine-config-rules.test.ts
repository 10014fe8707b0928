// src/machine-config: each of Talos's apply-time rules as a table row, on small hand-written configs (the
// oracle test, test/oracle/preflight-vs-talos.test.ts, holds the same rules to Talos's own validator).
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkMachineConfig, MAINTENANCE_METAL } from '../../src/machine-config/check.ts';
import { machineConfigCheck } from '../../src/machine-config/preflight-check.ts';
import { ALL_RULES, reasonMatches, RULES } from '../../src/machine-config/rules.ts';
import { checkUnattendedMatch, unattendedInstallMatch } from '../../src/machine-config/unattended-install.ts';

const CRT = Buffer.from('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n').toString('base64');
const KEY = Buffer.from('-----BEGIN ED25519 PRIVATE KEY-----\nAA==\n-----END ED25519 PRIVATE KEY-----\n').toString('base64');
const EXT = 'apiVersion: v1alpha1\nkind: ExtensionServiceConfig\nname: autobootstrap\nenvironment:\n  - TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2\n';

function cp(extra = ''): string {
  return `version: v1alpha1\nmachine:\n  type: controlplane\n  ca:\n    crt: ${CRT}\n    key: ${KEY}\n  install:\n    disk: /dev/sda\n${extra}cluster:\n  etcd:\n    ca:\n      crt: ${CRT}\n      key: ${KEY}\n---\n${EXT}`;
}
function worker(machineExtra = '', clusterExtra = ''): string {
  return `version: v1alpha1\nmachine:\n  type: worker\n  ca:\n    crt: ${CRT}\n    key: ""\n  install:\n    disk: /dev/sda\n${machineExtra}cluster:\n  clusterName: c\n${clusterExtra}---\n${EXT}`;
}
const ids = (text: string) => checkMachineConfig(text, MAINTENANCE_METAL).map((f) => f.rule.id);

const TABLE: [string, string, string[]][] = [
  ['a control plane as talosctl writes it', cp(), []],
  ['a worker as talosctl writes it', worker(), []],
  ['a worker carrying cluster.etcd', worker('', `  etcd:\n    ca:\n      crt: ${CRT}\n      key: ${KEY}\n`), ['worker-etcd']],
  ['a worker carrying machine.ca.key', worker().replace('key: ""', `key: ${KEY}`), ['worker-ca-key']],
  ['a worker carrying cluster.ca.key', worker('', `  ca:\n    crt: ${CRT}\n    key: ${KEY}\n`), ['worker-cluster-ca-key', 'worker-kubernetes-ca-key']],
  ['a worker with an empty machine.ca.crt', worker().replace(`crt: ${CRT}`, 'crt: ""'), ['worker-trusted-ca']],
  ['a worker with a shared VIP', worker('  network:\n    interfaces:\n      - interface: eth0\n        vip:\n          ip: 192.0.2.1\n'), ['worker-vip']],
  ['a control plane without machine.ca.key', cp().replace(`    key: ${KEY}\n  install`, '    key: ""\n  install'), ['controlplane-ca-key']],
  ['a control plane without machine.ca', cp().replace(`  ca:\n    crt: ${CRT}\n    key: ${KEY}\n  install`, '  install'), ['ca-required', 'controlplane-ca']],
  ['a control plane with cluster.etcd but no CA', cp().replace(/  etcd:\n    ca:\n.*\n.*\n/, '  etcd:\n    image: x\n'), ['etcd-ca-empty', 'controlplane-etcd-ca']],
  ['a control plane without cluster.etcd (Talos applies it; Bootstrap refuses)', cp().replace(/  etcd:\n    ca:\n.*\n.*\n/, '  clusterName: c\n'), ['controlplane-etcd-ca']],
  ['install with neither disk nor diskSelector', worker().replace('disk: /dev/sda', 'disk: ""'), ['install-disk']],
  ['install by diskSelector only', worker().replace('disk: /dev/sda', 'diskSelector:\n      size: ">= 10GB"'), []],
  ['no install section and no UnattendedInstallConfig', worker().replace('  install:\n    disk: /dev/sda\n', ''), ['install-required']],
  ['no install section, UnattendedInstallConfig instead (v1.14)', `${worker().replace('  install:\n    disk: /dev/sda\n', '')}---\napiVersion: v1alpha1\nkind: UnattendedInstallConfig\nprovisioning:\n  diskSelector:\n    match: disk.dev_path == "/dev/sda"\n`, []],
  ['machine.type unset: a worker to Talos', worker().replace('  type: worker\n', ''), []],
  ['machine.type join: a worker to Talos', worker().replace('type: worker', 'type: join'), []],
  ['machine.type banana', worker().replace('type: worker', 'type: banana'), ['machine-type-unknown']],
  ['no machine section', 'version: v1alpha1\ncluster:\n  clusterName: c\n', ['machine-required']],
  ['no cluster section', worker().replace('cluster:\n  clusterName: c\n', ''), ['cluster-required']],
  ['persist false', `persist: false\n${worker()}`, ['persist']],
  ['not YAML', 'version: v1alpha1\nmachine: "open\n', ['config-not-yaml']],
  ['a document that is a list', `${worker()}---\n- a\n`, ['document-not-mapping']],
  ['a document without kind', `${worker()}---\napiVersion: v1alpha1\nname: x\nenvironment: [A=1]\n`, ['unknown-keys']],
  ['a document without apiVersion', `${worker()}---\nkind: ExtensionServiceConfig\nname: x\nenvironment: [A=1]\n`, ['document-missing-apiversion']],
  ['a document with neither', `${worker()}---\nname: x\n`, ['document-missing-kind']],
  ['two ExtensionServiceConfig autobootstrap', `${worker()}---\n${EXT}`, ['duplicate-document']],
  ['two v1alpha1 documents', `${worker()}---\n${worker()}`, ['duplicate-document']],
  ['an ExtensionServiceConfig without name', worker().replace('name: autobootstrap\n', ''), ['extension-service-name']],
  ['an ExtensionServiceConfig without environment or files', worker().replace(/environment:\n.*\n/, ''), ['extension-service-empty']],
  ['an ExtensionServiceConfig file without content', worker().replace(/environment:\n.*\n/, 'configFiles:\n  - mountPath: /x\n    content: ""\n'), ['extension-service-file-content']],
  ['an ExtensionServiceConfig file without mountPath', worker().replace(/environment:\n.*\n/, 'configFiles:\n  - content: x\n'), ['extension-service-file-mount-path']],
  ['a worker carrying KubeAPIServerConfig', `${worker()}---\napiVersion: v1alpha1\nkind: KubeAPIServerConfig\n`, ['controlplane-only-documents']],
  ['DiscoveryServiceConfig without identity', `${worker()}---\napiVersion: v1alpha1\nkind: DiscoveryServiceConfig\nname: service\n`, ['discovery-cluster-id', 'discovery-cluster-secret']],
  ['DiscoveryServiceConfig with DiscoveryIdentityConfig', `${worker()}---\napiVersion: v1alpha1\nkind: DiscoveryServiceConfig\nname: service\n---\napiVersion: v1alpha1\nkind: DiscoveryIdentityConfig\nclusterID: a\nclusterSecret: b\n`, []],
];

describe('machine-config rules', () => {
  for (const [name, text, expected] of TABLE) {
    test(name, () => expect(ids(text).sort()).toEqual([...expected].sort()));
  }

  test('every rule has an id, a reason and a Talos source; every rule is exercised by the table', () => {
    const seen = new Set(TABLE.flatMap(([, , e]) => e));
    for (const r of ALL_RULES) {
      expect(r.reason.length).toBeGreaterThan(0);
      expect(r.source).toMatch(/^(pkg\/machinery|internal)\//);
      expect(seen.has(r.id)).toBe(true);
    }
    expect(new Set(ALL_RULES.map((r) => r.id)).size).toBe(ALL_RULES.length);
  });

  test('docs/operator.md lists every rule with its Talos reason', () => {
    const doc = readFileSync(join(import.meta.dir, '../../docs/operator.md'), 'utf8');
    for (const r of ALL_RULES) expect(doc).toContain(`| \`${r.id}\` |`);
    for (const r of ALL_RULES) expect(doc).toContain(r.reason);
  });

  test('a finding never quotes the config\'s secrets', () => {
    const text = worker().replace('key: ""', `key: ${KEY}`);
    const check = machineConfigCheck(text);
    expect(check.result).toBe('fail');
    expect(check.detail).not.toContain(KEY);
    expect(check.detail).toContain('issuing Talos API CA key is not allowed on non-controlplane nodes');
  });

  test('preflight check: pass, fail with Talos\'s reason, skip when unreadable', () => {
    expect(machineConfigCheck(worker()).result).toBe('pass');
    expect(machineConfigCheck(undefined).result).toBe('skip');
    expect(machineConfigCheck(cp().replace(`    key: ${KEY}\n  install`, '    key: ""\n  install')).detail).toContain('Talos refuses: "issuing CA key is required for controlplane nodes (.machine.ca.key)"');
  });
});

describe('reasonMatches: Talos\'s format verbs stand for any value, the rest must match', () => {
  test.each([
    [RULES.duplicateDocument, 'duplicate document v1alpha1/ExtensionServiceConfig/autobootstrap is not allowed (line 9)', true],
    [RULES.duplicateDocument, 'duplicated document v1alpha1/ExtensionServiceConfig/x is not allowed (line 9)', false],
    [RULES.unknownMachineType, 'v1alpha1.Config: unknown machine type "banana"', true],
    [RULES.workerEtcd, 'v1alpha1.Config: etcd config is only allowed on control plane machines', true],
    [RULES.workerEtcd, 'v1alpha1.Config: etcd config is allowed on control plane machines', false],
    [RULES.notYaml, 'decode error: yaml: line 3: found a tab character', true],
  ])('%#', (rule, text, expected) => expect(reasonMatches(rule, text)).toBe(expected));
});

describe('UnattendedInstallConfig install disk', () => {
  const disks = [{ id: 'sda', dev_path: '/dev/sda' }, { id: 'nvme0n1', dev_path: '/dev/nvme0n1' }];
  test('the form talosctl writes is evaluated', () => {
    expect(checkUnattendedMatch('disk.dev_path == "/dev/sda"', disks)).toMatchObject({ ok: true, evaluated: true });
    expect(checkUnattendedMatch('disk.dev_path == "/dev/vda"', disks)).toMatchObject({ ok: false, evaluated: true });
    expect(checkUnattendedMatch('', disks)).toMatchObject({ ok: false });
  });
  test('any other CEL expression is said to be Talos\'s to evaluate', () => {
    const r = checkUnattendedMatch('disk.size > 100u * GB', disks);
    expect(r).toMatchObject({ ok: true, evaluated: false });
    expect(r.detail).toContain('not evaluated');
  });
  test('read from the document', () => {
    expect(unattendedInstallMatch(`${worker()}---\napiVersion: v1alpha1\nkind: UnattendedInstallConfig\nprovisioning:\n  diskSelector:\n    match: disk.dev_path == "/dev/sda"\n`)).toBe('disk.dev_path == "/dev/sda"');
    expect(unattendedInstallMatch(worker())).toBeUndefined();
  });
});
