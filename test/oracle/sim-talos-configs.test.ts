// The simulator serving Talos-generated configs (test/sim/talos-configs.ts): for every version contract from
// v1.7, a simulated cluster whose secrets are the generated configs' own. Talos's validator accepts each
// config a node serves, and the daemon's path from that config to a working client certificate (parse, CA
// extraction, minting) is accepted by the simulated apid, whose certificates chain to the same OS CA.
// Binds 127.0.173.0/24: run inside a private network namespace.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { controlPlaneCA } from '../../src/pki/machine-ca.ts';
import { parseMachineConfig } from '../../src/pki/machine-config.ts';
import { mintClientCertificate } from '../../src/pki/mint.ts';
import { SimClient } from '../sim/client.ts';
import { TalosSimulator } from '../sim/simulator.ts';
import { generatedConfig, talosValidate } from './harness.ts';

const CONTRACTS = ['v1.7', 'v1.8', 'v1.9', 'v1.10', 'v1.11', 'v1.12', 'v1.13', 'v1.14'];
const dir = mkdtempSync(join(tmpdir(), 'oracle-sim-configs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the simulator serves Talos-generated configs', () => {
  CONTRACTS.forEach((contract, i) => {
    test(contract, async () => {
      const configs = { controlplane: generatedConfig(contract, 'controlplane').text, worker: generatedConfig(contract, 'worker').text };
      const subnet = '127.0.173';
      const sim = await TalosSimulator.start({
        clusters: { default: { talosConfigs: configs } },
        nodes: [
          { name: 'cp1', ip: `${subnet}.${i * 3 + 1}`, type: 'controlplane' },
          { name: 'cp2', ip: `${subnet}.${i * 3 + 2}`, type: 'controlplane' },
          { name: 'w1', ip: `${subnet}.${i * 3 + 3}`, type: 'worker', extensions: [] },
        ],
      });
      const clients: SimClient[] = [];
      try {
        // Talos accepts what each node serves.
        const files = ['cp1', 'cp2', 'w1'].map((n) => {
          const path = join(dir, `${contract}-${n}.yaml`);
          writeFileSync(path, sim.node(n).machineConfig);
          return path;
        });
        for (const v of talosValidate(files)) expect({ file: v.file, errors: v.errors }).toEqual({ file: v.file, errors: [] });
        // The generated documents are all there; the autobootstrap document carries this cluster's quorum.
        const cp = parseMachineConfig(sim.node('cp1').machineConfig);
        expect(cp.machineType).toBe('controlplane');
        expect(sim.node('cp1').machineConfig).toContain('TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=2');
        expect(sim.node('w1').machineConfig).not.toContain('kind: ExtensionServiceConfig');
        expect(cp.caCertPem?.trim()).toBe(sim.osCaPem().trim());
        // The daemon's path: CA from the config, a minted os:admin certificate, accepted by apid.
        const ca = controlPlaneCA(cp);
        const cert = mintClientCertificate(ca, { roles: ['os:admin'], commonName: 'autobootstrap-cp1' });
        const client = new SimClient(sim.node('cp2'), { caPem: cp.caCertPem ?? '', cert: { certPem: cert.certPem, keyPem: cert.keyPem } });
        clients.push(client);
        const version = (await client.call('Version')) as { messages: unknown[] };
        expect(version.messages).toHaveLength(1);
      } finally {
        for (const c of clients) c.close();
        await sim.stop();
      }
    });
  });
});
