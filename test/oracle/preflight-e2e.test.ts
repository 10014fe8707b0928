// The operator issue's machine-config cases end to end: the compiled binary's preflight against simulated
// nodes in maintenance mode that were given Talos-generated configs, each config then broken one way.
// preflight refuses it (exit 1) naming Talos's reason, and Talos's own validator refuses the same file with
// that reason; the config as generated passes both. Binds 127.0.174.0/24: run inside a private network
// namespace. Needs `make build` (dist/autobootstrap) and `make oracle`.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, type Document } from 'yaml';
import { RULES, reasonMatches, type MachineConfigRule } from '../../src/machine-config/rules.ts';
import { FAST_RETRY, startOperatorCluster, type OperatorCluster } from '../e2e/operator-harness.ts';
import { edit } from './corpus.ts';
import { generatedConfig, talosValidate } from './harness.ts';

const SUBNET = '127.0.174';
let c: OperatorCluster;
const cp = generatedConfig('v1.13', 'controlplane').text;
const worker = generatedConfig('v1.13', 'worker').text;
const v1 = (docs: Document[]) => docs.find((d) => d.get('version') === 'v1alpha1') as Document;
const etcdSection = v1(parseAllDocuments(cp) as Document[]).getIn(['cluster', 'etcd'], true);
const extension = (text: string) => text.slice(text.lastIndexOf('apiVersion: v1alpha1\nkind: ExtensionServiceConfig'));

beforeAll(async () => {
  c = await startOperatorCluster(
    SUBNET,
    [
      { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', maintenance: true },
      { name: 'w1', ip: `${SUBNET}.11`, type: 'worker', maintenance: true },
    ],
    { clusters: { default: { talosConfigs: { controlplane: cp, worker } } } },
  );
});
afterAll(async () => {
  await c.close();
});

const CASES: { name: string; node: 'cp1' | 'w1'; text: () => string; rule: MachineConfigRule }[] = [
  { name: 'a worker carrying cluster.etcd', node: 'w1', rule: RULES.workerEtcd, text: () => edit(worker, (d) => v1(d).setIn(['cluster', 'etcd'], etcdSection)) },
  { name: 'a control plane without machine.ca.key', node: 'cp1', rule: RULES.controlPlaneCaKey, text: () => edit(cp, (d) => v1(d).setIn(['machine', 'ca', 'key'], '')) },
  { name: 'an install section with neither disk nor diskSelector', node: 'w1', rule: RULES.installDisk, text: () => edit(worker, (d) => v1(d).setIn(['machine', 'install', 'disk'], '')) },
  { name: 'a config that does not parse', node: 'cp1', rule: RULES.notYaml, text: () => `${cp.slice(0, 300)}\n  bad: "unclosed\n` },
  { name: 'a second ExtensionServiceConfig autobootstrap', node: 'cp1', rule: RULES.duplicateDocument, text: () => `${cp}---\n${extension(cp)}` },
];

describe('preflight refuses what Talos refuses, with Talos\'s reason', () => {
  test('the configs as Talos generated them pass', async () => {
    const cpRun = await c.run(['preflight', '--nodes', `${SUBNET}.1`, '--file', 'clusterconfig/cp1.yaml', ...FAST_RETRY]);
    expect(cpRun.stdout).toContain('preflight passed');
    expect(cpRun.code).toBe(0);
    const wRun = await c.run(['preflight', '--nodes', `${SUBNET}.11`, '--file', 'clusterconfig/w1.yaml', ...FAST_RETRY]);
    expect(wRun.code).toBe(0);
  });

  for (const k of CASES) {
    test(k.name, async () => {
      const file = join(c.dir, 'clusterconfig', `case-${k.rule.id}.yaml`);
      writeFileSync(file, k.text());
      const [talos] = talosValidate([file]);
      expect(talos?.ok).toBe(false);
      expect(talos?.errors.some((e) => reasonMatches(k.rule, e))).toBe(true);
      const node = k.node === 'cp1' ? `${SUBNET}.1` : `${SUBNET}.11`;
      const r = await c.run(['preflight', '--nodes', node, '--file', file, ...FAST_RETRY]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`machine-config: Talos refuses: "${k.rule.reason}" (${k.rule.id};`);
    });
  }
});
