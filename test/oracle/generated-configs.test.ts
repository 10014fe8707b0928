// The daemon's config parsing and CA extraction on configs Talos's own generator wrote, for every version
// contract the extension supports (v1.7 onwards), control planes and workers, each with the autobootstrap
// ExtensionServiceConfig document added (multi-document on every contract; v1.14's many documents, with
// DiscoveryServiceConfig and DiscoveryIdentityConfig, included).
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { parseMachineConfigBytes } from '../../src/pki/config-bytes.ts';
import { controlPlaneCA } from '../../src/pki/machine-ca.ts';
import { parseMachineConfig } from '../../src/pki/machine-config.ts';
import { checkMachineConfig } from '../../src/machine-config/check.ts';
import { generatedConfigs, talosValidate } from './harness.ts';

const configs = generatedConfigs();
const CONTRACTS = ['v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12', 'v1.13', 'v1.14'];
const normalise = (pem: string) => pem.replace(/\r/g, '').trim();

describe('Talos-generated configs', () => {
  test('one control plane and one worker per contract from v1.7 to v1.14, each with the autobootstrap document', () => {
    for (const contract of CONTRACTS) {
      const types = configs.filter((c) => c.contract === contract).map((c) => c.machineType).sort();
      expect(types, contract).toEqual(['controlplane', 'worker']);
    }
    for (const c of configs) expect(c.kinds.filter((k) => k === 'ExtensionServiceConfig').length, c.file).toBe(1);
    const v114 = configs.filter((c) => c.contract === 'v1.14');
    for (const c of v114) expect(c.kinds).toEqual(expect.arrayContaining(['v1alpha1', 'DiscoveryServiceConfig', 'DiscoveryIdentityConfig']));
  });

  test('Talos itself accepts every generated config (the corpus starts from configs Talos applies)', () => {
    const verdicts = talosValidate(configs.map((c) => c.path));
    for (const v of verdicts) expect({ file: v.file, errors: v.errors }).toEqual({ file: v.file, errors: [] });
  });

  for (const c of configs) {
    describe(`${c.contract} ${c.machineType}`, () => {
      const text = readFileSync(c.path, 'utf8');

      test('parseMachineConfig reads the machine type, OS CA and etcd CA presence the generator wrote', () => {
        const facts = parseMachineConfig(text);
        expect(facts.machineType).toBe(c.machineType);
        expect(normalise(facts.caCertPem ?? '')).toBe(normalise(c.osCaCert));
        expect(facts.etcdConfigured).toBe(c.machineType === 'controlplane');
        // Control planes name their cluster: cluster.clusterName, or v1.14's KubeClusterConfig document.
        if (c.machineType === 'controlplane') expect(facts.clusterName).toBe(c.clusterName);
        if (c.machineType === 'controlplane') expect(normalise(facts.caKeyPem ?? '')).toBe(normalise(c.osCaKey));
        else expect(facts.caKeyPem).toBeUndefined();
      });

      test('the bytes path (config.yaml from STATE or machined) gives the same facts', () => {
        expect(parseMachineConfigBytes(Buffer.from(text), 'config.yaml')).toEqual(parseMachineConfig(text));
      });

      if (c.machineType === 'controlplane') {
        test('controlPlaneCA loads the generator\'s OS CA (Ed25519) with its key', () => {
          const ca = controlPlaneCA(parseMachineConfig(text), new Date('2026-06-01T00:00:00Z'));
          expect(ca.keyType).toBe('ed25519');
          expect(normalise(ca.certPem)).toBe(normalise(c.osCaCert));
        });
      } else {
        test('controlPlaneCA refuses a worker config: it has no CA key', () => {
          expect(() => controlPlaneCA(parseMachineConfig(text))).toThrow(/worker/);
        });
      }

      test('the machine-config rules find nothing wrong', () => {
        expect(checkMachineConfig(text).map((f) => f.rule.id)).toEqual([]);
      });
    });
  }
});
