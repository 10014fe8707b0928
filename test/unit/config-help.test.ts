import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { closestName, CONFIG_SPECS, DURATION_SPECS, editDistance, KNOWN_VARIABLES, loadConfig, unknownVariables } from '../../src/config.ts';
import { CONFIG_TABLE_PATH, configRows, daemonHelp, withFreshTable } from '../../src/config-help.ts';
import { isSemanticVersion, semanticVersion } from '../../src/version.ts';

describe('help generated from the schema', () => {
  test('every variable has a meaning and a default (a new variable without one fails here)', () => {
    for (const row of configRows()) {
      expect(row.meaning, row.variable).toBeTruthy();
      expect(row.defaultText, row.variable).not.toBe('detected');
    }
  });

  test('defaults are shown as an operator writes them', () => {
    const byName = Object.fromEntries(configRows().map((r) => [r.variable, r]));
    expect(byName.TALOS_AUTO_BOOTSTRAP_QUORUM_NODES?.defaultText).toBe('required');
    expect(byName.TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL?.defaultText).toBe('30s');
    expect(byName.TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF?.defaultText).toBe('2m');
    expect(byName.TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY?.defaultText).toBe('256');
    expect(byName.TALOS_AUTO_BOOTSTRAP_DISCOVERY?.defaultText).toBe('members,scan,static');
    expect(byName.LOG_LEVEL?.defaultText).toBe('info');
    expect(byName.TALOS_AUTO_BOOTSTRAP_CA_SOURCE?.choices).toBe('auto, state, socket');
  });

  test('every duration variable is marked as one, so its default is shown as a duration (not in ms)', () => {
    for (const name of KNOWN_VARIABLES) {
      const spec = CONFIG_SPECS[name] as { _parse?: (input: string) => unknown };
      let parsed: unknown;
      try {
        parsed = spec._parse?.('15m');
      } catch {
        parsed = undefined;
      }
      if (parsed === 900_000) expect(DURATION_SPECS.has(spec), name).toBe(true);
    }
  });

  test('the help names every variable once', () => {
    const help = daemonHelp('v0.0.0-test');
    for (const name of KNOWN_VARIABLES) expect(help.split(`  ${name} `).length - 1, name).toBe(1);
  });

  test(`the committed table in ${CONFIG_TABLE_PATH} is the generated one (bun scripts/config-table.ts)`, () => {
    const doc = readFileSync(join(import.meta.dir, '../..', CONFIG_TABLE_PATH), 'utf8');
    expect(withFreshTable(doc)).toBe(doc);
  });
});

describe('typo hints', () => {
  test('edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  test('the closest known name', () => {
    const known = KNOWN_VARIABLES.filter((n) => n.startsWith('TALOS_AUTO_BOOTSTRAP_'));
    expect(closestName('TALOS_AUTO_BOOTSTRAP_QUORUM_NODE', known)).toBe('TALOS_AUTO_BOOTSTRAP_QUORUM_NODES');
    expect(closestName('TALOS_AUTO_BOOTSTRAP_PEER', known)).toBe('TALOS_AUTO_BOOTSTRAP_PEERS');
    expect(closestName('TALOS_AUTO_BOOTSTRAP_SCANCIDR', known)).toBe('TALOS_AUTO_BOOTSTRAP_SCAN_CIDR');
    expect(closestName('TALOS_AUTO_BOOTSTRAP_DRYRUN', known)).toBe('TALOS_AUTO_BOOTSTRAP_DRY_RUN');
  });

  test('unknown variables are reported with an invalid configuration too', () => {
    const r = loadConfig({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODE: '3' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES']);
    expect(r.warnings.map((w) => w.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODE']);
    expect(r.warnings[0]?.problem).toContain('did you mean TALOS_AUTO_BOOTSTRAP_QUORUM_NODES?');
  });

  test('other environment variables are never named', () => {
    expect(unknownVariables({ HOME: '/root', TALOS_OTHER: 'x', LOG_LEVL: 'debug' })).toEqual([]);
  });
});

describe('one version form', () => {
  test('the build stamp becomes a semantic version with a leading v', () => {
    expect(semanticVersion('v1.2.3', '0.1.0')).toBe('v1.2.3');
    expect(semanticVersion('v1.2.3-4-gabc1234', '0.1.0')).toBe('v1.2.3-4-gabc1234');
    expect(semanticVersion('abc1234', '0.1.0')).toBe('v0.1.0-gabc1234');
    expect(semanticVersion('abc1234-dirty', '0.1.0')).toBe('v0.1.0-gabc1234.dirty');
    expect(semanticVersion('unknown', '0.1.0')).toBe('v0.1.0-unknown');
    for (const v of ['v1.2.3', 'v0.1.0-gabc1234', 'v0.1.0-gabc1234.dirty', 'v0.1.0-unknown']) expect(isSemanticVersion(v)).toBe(true);
  });
});
