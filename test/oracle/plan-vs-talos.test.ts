// The only configs Talos accepts that preflight refuses are refused by autobootstrap's own cross-node
// ExtensionServiceConfig rules (docs/operator.md, "Across the plan"): plans of three Talos-generated
// control-plane configs, each file accepted by Talos's validator, that the plan checks refuse for a missing
// autobootstrap document, disagreeing quorums, a quorum that is no majority, or an invalid variable; and
// the plan as generated passes them.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from 'yaml';
import { readNodeConfig } from '../../src/cli/inputs/node-config.ts';
import { planChecks } from '../../src/cli/rules/plan-checks.ts';
import { edit } from './corpus.ts';
import { generatedConfig, talosValidate } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'oracle-plan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cp = generatedConfig('v1.13', 'controlplane').text;
const ext = (docs: Document[]) => docs.find((d) => d.get('kind') === 'ExtensionServiceConfig') as Document;
const withEnv = (env: string[]) => edit(cp, (d) => ext(d).set('environment', env));
const AS_GENERATED = withEnv(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2', 'TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3']);

const CROSS_NODE_RULES = ['extension-config', 'quorum-agreement', 'quorum-majority'];

const PLANS: { name: string; configs: string[]; refusedBy: string[] }[] = [
  { name: 'as generated: three control planes, quorum 2 of 3', configs: [AS_GENERATED, AS_GENERATED, AS_GENERATED], refusedBy: [] },
  {
    name: 'one control plane without the autobootstrap document',
    configs: [AS_GENERATED, AS_GENERATED, edit(cp, (d) => d.splice(d.indexOf(ext(d)), 1))],
    refusedBy: ['extension-config'],
  },
  {
    name: 'one control plane with QUORUM_NODES=1',
    configs: [AS_GENERATED, AS_GENERATED, withEnv(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=1', 'TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3'])],
    refusedBy: ['quorum-agreement'],
  },
  {
    name: 'all with QUORUM_NODES=1: no majority of three',
    configs: Array(3).fill(withEnv(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=1'])) as string[],
    refusedBy: ['quorum-majority'],
  },
  {
    name: 'an invalid variable',
    configs: [AS_GENERATED, AS_GENERATED, withEnv(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=two', 'TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=3'])],
    refusedBy: ['extension-config'],
  },
];

describe('plans of configs Talos accepts', () => {
  for (const [i, plan] of PLANS.entries()) {
    test(plan.name, () => {
      const files = plan.configs.map((text, n) => {
        const path = join(dir, `${i}-cp${n + 1}.yaml`);
        writeFileSync(path, text);
        return path;
      });
      for (const v of talosValidate(files)) expect({ file: v.file, errors: v.errors }).toEqual({ file: v.file, errors: [] });
      const controlPlanes = files.map((path, n) => {
        const read = readNodeConfig(path);
        if (!read.ok) throw new Error(read.problem);
        return { node: `cp${n + 1}`, config: read.config };
      });
      const failed: string[] = [...new Set(planChecks(controlPlanes).filter((c) => c.result === 'fail').map((c) => c.name))];
      // Refused by at least the rule the plan breaks, and by nothing but autobootstrap's cross-node rules.
      for (const name of plan.refusedBy) expect(failed).toContain(name);
      expect(failed.filter((name) => !CROSS_NODE_RULES.includes(name))).toEqual([]);
      if (plan.refusedBy.length === 0) expect(failed).toEqual([]);
    });
  }
});
