// Talos's validator as the oracle for preflight. Each config of the corpus is loaded and validated by Talos's
// own code (test/oracle validate: configloader, then ValidateAtRuntime in a maintenance-mode metal node's
// mode) and checked by preflight (the checks that depend on the config, against a node that has /dev/sda).
// - Every config Talos refuses, preflight refuses, and every reason Talos gives is one preflight names.
// - Preflight refuses no config Talos accepts, except by autobootstrap's own rules (docs/operator.md).
// A disagreement fails the test.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeChecks } from '../../src/cli/commands/preflight.ts';
import { readNodeConfig } from '../../src/cli/inputs/node-config.ts';
import { checkMachineConfig } from '../../src/machine-config/check.ts';
import { reasonMatches } from '../../src/machine-config/rules.ts';
import { corpus } from './corpus.ts';
import { talosValidate } from './harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'oracle-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cases = corpus().map((c, i) => ({ ...c, path: join(dir, `${String(i).padStart(3, '0')}.yaml`) }));
for (const c of cases) writeFileSync(c.path, c.text);
const verdicts = new Map(talosValidate(cases.map((c) => c.path)).map((v) => [v.file, v]));

// The node-independent part of preflight's verdict: a node in maintenance with one disk at /dev/sda (the
// generator's install disk), so reachability and the disk itself cannot be why preflight refuses.
const DISKS = [{ id: 'sda', dev_path: '/dev/sda', size: 512_000_000_000, transport: 'sata', rotational: false }];

function preflightOf(path: string, text: string) {
  const checks = nodeChecks({ address: '127.0.0.1', probe: { kind: 'maintenance' }, attempts: 1, config: readNodeConfig(path), disks: DISKS }, text);
  return checks.filter((c) => c.result === 'fail');
}

describe('preflight agrees with Talos on every config of the corpus', () => {
  test('the corpus holds configs Talos accepts and configs Talos refuses', () => {
    const refused = [...verdicts.values()].filter((v) => !v.ok).length;
    expect(refused).toBeGreaterThan(20);
    expect(verdicts.size - refused).toBeGreaterThan(15);
  });

  for (const c of cases) {
    test(c.name, () => {
      const talos = verdicts.get(c.path);
      if (!talos) throw new Error(`no Talos verdict for ${c.path}`);
      const failed = preflightOf(c.path, c.text);
      const findings = checkMachineConfig(c.text);
      if (!talos.ok) {
        // Refused by Talos: preflight refuses, and names each of Talos's reasons.
        expect(failed.map((f) => f.name)).toContain('machine-config');
        const unexplained = talos.errors.filter((e) => !findings.some((f) => f.rule.scope === 'talos' && reasonMatches(f.rule, e)));
        expect({ talosErrors: talos.errors, unexplained }).toEqual({ talosErrors: talos.errors, unexplained: [] });
        // And no Talos reason preflight gives is one Talos did not give.
        const invented = findings.filter((f) => f.rule.scope === 'talos' && !talos.errors.some((e) => reasonMatches(f.rule, e)));
        expect(invented.map((f) => f.rule.id)).toEqual([]);
      } else {
        // Accepted by Talos v1.14: nothing of Talos v1.14's is refused; any other refusal is autobootstrap's
        // own rule or one Talos v1.13 and older apply (a missing install section, which the install-disk check
        // also names).
        expect(findings.filter((f) => f.rule.scope === 'talos').map((f) => f.rule.id)).toEqual([]);
        const allowed = findings.length > 0 ? ['machine-config'] : [];
        if (findings.some((f) => f.rule.id === 'install-required')) allowed.push('install-disk');
        expect(failed.map((f) => `${f.name}: ${f.detail}`).filter((f) => !allowed.some((a) => f.startsWith(`${a}:`)))).toEqual([]);
      }
    });
  }
});
