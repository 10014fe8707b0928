// Machine-config YAML as the daemon reads it from STATE or machined (parseMachineConfigBytes, then
// controlPlaneCA): truncated, byte-damaged, wrong types at every field the daemon reads, huge, and hostile
// anchors and aliases. A clear PkiError or a correct parse, within the time budget, and no error message
// ever quotes key material or a token.
import { afterAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { parseAllDocuments, stringify } from 'yaml';
import { controlPlaneCA } from '../../src/pki/machine-ca.ts';
import { parseMachineConfigBytes } from '../../src/pki/config-bytes.ts';
import { PkiError } from '../../src/pki/pem.ts';
import { createClusterIdentity } from '../sim/cluster-identity.ts';
import { generatedCluster } from '../sim/generated-clusters.ts';
import { identityFromTalosConfigs } from '../sim/talos-configs.ts';
import { billionLaughs, check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'machine-config.test.ts';
// The seed is a control-plane config Talos's generator wrote (make oracle); the fuzzing breaks it.
const CONFIG = generatedCluster(0).controlplane;
const id = identityFromTalosConfigs(generatedCluster(0), createClusterIdentity('default'));
const SECRETS = [id.machineToken, id.clusterSecret, Buffer.from(id.osCa.talosKeyPem).toString('base64').slice(0, 24), id.osCa.talosKeyPem.split('\n')[1]!.slice(0, 24)];

/** Parse then derive the CA, as the daemon does; only PkiError may come out, and it never quotes a secret. */
function readConfig(text: string | Buffer): void {
  const bytes = typeof text === 'string' ? Buffer.from(text) : Buffer.from(text);
  const r = outcome(() => controlPlaneCA(parseMachineConfigBytes(bytes, 'config.yaml')), [PkiError]);
  if (!r.ok) {
    expect(r.error.message.length).toBeGreaterThan(0);
    for (const s of SECRETS) expect(r.error.message).not.toContain(s);
  } else {
    expect(['ed25519', 'ecdsa', 'rsa']).toContain(r.value.keyType);
  }
}

/** The paths the daemon reads, where a fuzzed value of any type is put. */
const PATHS = [
  ['version'], ['machine'], ['machine', 'type'], ['machine', 'ca'], ['machine', 'ca', 'crt'], ['machine', 'ca', 'key'],
  ['machine', 'token'], ['machine', 'network'], ['machine', 'network', 'hostname'], ['cluster'], ['cluster', 'etcd'],
  ['cluster', 'etcd', 'ca'], ['cluster', 'etcd', 'ca', 'key'], ['cluster', 'clusterName'],
];

const PARSED = parseAllDocuments(CONFIG).map((d) => d.toJS() as Record<string, unknown>);

function withValueAt(path: string[], value: unknown): string {
  const docs = structuredClone(PARSED);
  const v1 = docs.find((d) => d && d.version === 'v1alpha1') as Record<string, unknown>;
  let node = v1;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path.at(-1)!] = value;
  return docs.map((d) => stringify(d)).join('---\n');
}

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('machine config', () => {
  test('the unmodified config parses (the fuzzing starts from a valid one)', () => {
    expect(controlPlaneCA(parseMachineConfigBytes(Buffer.from(CONFIG), 'config.yaml')).keyType).toBe('ed25519');
  });

  test('truncated anywhere', () => {
    check(FILE, 'truncated anywhere', fc.property(fc.nat({ max: CONFIG.length }), (n) => readConfig(CONFIG.slice(0, n))));
  });

  test('bytes damaged', () => {
    const damage = fc.array(fc.tuple(fc.nat({ max: CONFIG.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    check(
      FILE,
      'bytes damaged',
      fc.property(damage, (edits) => {
        const bytes = Buffer.from(CONFIG);
        for (const [at, b] of edits) bytes[at] = b;
        readConfig(bytes);
      }),
    );
  });

  test('wrong types at every field read', () => {
    check(FILE, 'wrong types at every field read', fc.property(fc.constantFrom(...PATHS), fc.jsonValue({ maxDepth: 3 }), (path, value) => readConfig(withValueAt(path, value))));
  });

  test('arbitrary text and arbitrary YAML', () => {
    const yamlish = fc.jsonValue({ maxDepth: 4 }).map((v) => stringify(v));
    check(FILE, 'arbitrary text and arbitrary YAML', fc.property(fc.oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: 'binary', maxLength: 2000 }), yamlish), (t) => readConfig(t)));
  });

  test('huge: a long value, many documents', () => {
    const huge = fc.oneof(
      fc.integer({ min: 1, max: 2 * 2 ** 20 }).map((n) => CONFIG.replace('hostname: cp1', `hostname: ${'a'.repeat(n)}`)),
      fc.integer({ min: 1, max: 2000 }).map((n) => `${'---\nkind: Other\n'.repeat(n)}---\n${CONFIG}`),
    );
    check(FILE, 'huge: a long value, many documents', fc.property(huge, (t) => readConfig(t)));
  });

  test('hostile anchors and aliases (billion laughs) anywhere', () => {
    const laughs = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.constantFrom(...PATHS)).map(([depth, fanout, path]) => {
      const bomb = billionLaughs(depth, fanout, 'x');
      // The bomb as a separate document, and one of its aliases at a field the daemon reads.
      const target = withValueAt(path, 'BOMB').replace(/'?BOMB'?/, `*x${depth}`);
      return `${bomb}---\n${target.split('---\n').map((d, i) => (i === 0 ? `${bomb.replace(/^x0/m, 'y0')}${d}` : d)).join('---\n')}`;
    });
    check(FILE, 'hostile anchors and aliases (billion laughs) anywhere', fc.property(laughs, (t) => readConfig(t)));
  });
});
