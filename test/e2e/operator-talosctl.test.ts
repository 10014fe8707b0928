// Inputs as talhelper and talosctl produce them, end to end against the simulator: one node behind two
// addresses, --cert-fingerprint enforced, plan-wide ExtensionServiceConfig checks, a disk selector that matches
// two disks, preflight --retries, `help apply`, and verify/status through -e endpoints with IP:port nodes.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { parseAllDocuments, stringify } from 'yaml';
import { FAST_RETRY, startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.152';
const ip = (n: number) => `${SUBNET}.${n}`;
let c: OperatorCluster;

const SSD = { id: 'sda', size: 500_107_862_016, model: 'Samsung SSD 870', serial: 'S1', transport: 'sata', rotational: false };
const DATA = { id: 'nvme0n1', size: 2_000_398_934_016, model: 'data NVMe', serial: 'N1', transport: 'nvme', rotational: false };

/** SHA-256 of the served leaf certificate's SPKI, base64: what a Talos console shows in maintenance mode. */
function consoleFingerprint(address: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: address, port: 50000, rejectUnauthorized: false, servername: 'apid.talos', ALPNProtocols: ['h2'] }, () => {
      const cert = new X509Certificate(s.getPeerCertificate().raw);
      s.destroy();
      resolve(createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64'));
    });
    s.on('error', reject);
  });
}

const line = (address: string, name: string, extra = '') => `talosctl apply-config --talosconfig=./clusterconfig/talosconfig --nodes=${address} --file=./clusterconfig/${name}.yaml --insecure${extra};\n`;

beforeAll(async () => {
  c = await startOperatorCluster(SUBNET, [
    // cp1 has two addresses: talhelper writes a line for each.
    { name: 'cp1', ip: ip(1), type: 'controlplane', maintenance: true, addresses: [{ ip: ip(21) }] },
    { name: 'cp2', ip: ip(2), type: 'controlplane', maintenance: true },
    { name: 'cp3', ip: ip(3), type: 'controlplane', maintenance: true },
    { name: 'w1', ip: ip(11), type: 'worker', maintenance: true, disks: [SSD, DATA] },
  ]);
  // w1 selects "an SSD": both of its disks are.
  const w1 = readFileSync(c.configPath('w1'), 'utf8');
  writeFileSync(c.configPath('w1'), w1.replace('        disk: /dev/sda\n', '        diskSelector:\n            type: ssd\n'));
  // A broken plan beside the good one: cp2 with QUORUM_NODES=1, cp3 without autobootstrap's document.
  const edit = (name: string, change: (docs: Record<string, unknown>[]) => Record<string, unknown>[]) => {
    const docs = parseAllDocuments(readFileSync(c.configPath(name), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
    writeFileSync(join(c.dir, 'clusterconfig', `${name}-bad.yaml`), change(docs).map((d) => stringify(d)).join('---\n'));
  };
  edit('cp2', (docs) => docs.map((d) => (d.kind === 'ExtensionServiceConfig' ? { ...d, environment: ['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=1'] } : d)));
  edit('cp3', (docs) => docs.filter((d) => d.kind !== 'ExtensionServiceConfig'));
});
afterAll(async () => {
  await c.close();
});

interface PreflightJson {
  ok: boolean;
  nodes: { address: string; ok: boolean; sameNodeAs?: string; checks: { name: string; result: string; detail: string; warning?: string }[] }[];
  plan: { name: string; result: string; detail: string }[];
  warnings: string[];
}

describe('talhelper and talosctl inputs', () => {
  const good = () => line(ip(1), 'cp1') + line(ip(21), 'cp1') + line(ip(2), 'cp2') + line(ip(3), 'cp3') + line(ip(11), 'w1');

  test('help apply prints apply\'s help', async () => {
    const r = await c.run(['help', 'apply']);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith('autobootstrap apply: ');
    expect(r.stdout).toContain('--parallel VALUE');
  });

  test('preflight --retries is honoured', async () => {
    for (const [retries, attempts] of [['0', 1], ['1', 2]] as const) {
      const r = await c.run(['preflight', '--nodes', ip(99), '--file', 'clusterconfig/cp1.yaml', '--retries', retries, ...FAST_RETRY]);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`no answer on ${ip(99)}:50000 after ${attempts} attempt`);
    }
  });

  test('plan-wide: a control plane without autobootstrap\'s document and one with QUORUM_NODES=1 fail preflight', async () => {
    const text = line(ip(1), 'cp1') + line(ip(2), 'cp2-bad') + line(ip(3), 'cp3-bad');
    const r = await c.run(['preflight', '--from-talhelper', '-', ...FAST_RETRY], text);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL extension-config: cp3-bad (${ip(3)}): no "ExtensionServiceConfig" document named autobootstrap`);
    expect(r.stdout).toContain('FAIL quorum-agreement: the control planes disagree: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=3 on cp1');
    expect(r.stdout).toContain("FAIL quorum-majority: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=1 is no majority of the plan's 3 control planes");
    expect(r.stdout).toMatch(/preflight FAILED: plan: extension-config, quorum-agreement, quorum-majority/);
    const j = JSON.parse((await c.run(['preflight', '--from-talhelper', '-', '-o', 'json', ...FAST_RETRY], text)).stdout) as PreflightJson;
    expect(j.ok).toBe(false);
    expect(j.plan.filter((p) => p.result === 'fail').map((p) => p.name)).toEqual(['extension-config', 'quorum-agreement', 'quorum-majority']);
  });

  test('a wrong --cert-fingerprint: preflight fails it, apply sends nothing', async () => {
    const wrong = Buffer.alloc(32, 1).toString('base64');
    const text = line(ip(2), 'cp2', ` --cert-fingerprint=${wrong}`);
    const p = await c.run(['preflight', '--from-talhelper', '-', ...FAST_RETRY], text);
    expect(p.code).toBe(1);
    expect(p.stdout).toContain(`cert-fingerprint: server certificate fingerprint ${await consoleFingerprint(ip(2))} matches none of --cert-fingerprint ${wrong}: apply will send it nothing`);
    const a = await c.run(['apply', '--from-talhelper', '-', ...FAST_RETRY], text);
    expect(a.code).toBe(1);
    expect(a.stdout).toContain('not sent: its server certificate fingerprint');
    expect(c.sim.node('cp2').appliedConfigs).toHaveLength(0);
    expect(c.sim.calls().filter((x) => x.node === 'cp2' && x.method.endsWith('/ApplyConfiguration'))).toHaveLength(0);
  });

  test('one node behind two addresses: preflight checks it once; a selector matching two disks names the one wiped (text and JSON)', async () => {
    const fp = await consoleFingerprint(ip(2));
    const text = good().replace(`--nodes=${ip(2)} --file=./clusterconfig/cp2.yaml --insecure`, `--nodes=${ip(2)} --file=./clusterconfig/cp2.yaml --insecure --cert-fingerprint=${fp}`);
    const r = await c.run(['preflight', '--from-talhelper', '-', ...FAST_RETRY], text);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^cp1\\s+${ip(21).replace(/\./g, '\\.')}\\s+same node as ${ip(1).replace(/\./g, '\\.')}$`, 'm'));
    expect(r.stdout).toContain('preflight passed: 4 node(s) ready for apply (1 warning above)');
    expect(r.stdout).toContain(`WARNING: w1 (${ip(11)}) install-disk: diskSelector {"type":"ssd"} matches 2 disks: Talos installs to the first by name, /dev/nvme0n1, 2.0 TB, model "data NVMe"`);
    expect(r.stdout).toContain('also matched: /dev/sda, 500 GB, model "Samsung SSD 870"');
    const j = JSON.parse((await c.run(['preflight', '--from-talhelper', '-', '-o', 'json', ...FAST_RETRY], text)).stdout) as PreflightJson;
    expect(j.ok).toBe(true);
    expect(j.nodes.find((n) => n.address === ip(21))?.sameNodeAs).toBe(ip(1));
    expect(j.warnings).toHaveLength(1);
    expect(j.warnings[0]).toContain('WIPES it');
    expect(j.nodes.find((n) => n.address === ip(11))?.checks.find((ch) => ch.name === 'install-disk')?.warning).toContain('matches 2 disks');
  });

  test('apply: the node behind two addresses is configured once, the second address reported as the same node; exit 0', async () => {
    const fp = await consoleFingerprint(ip(2));
    const text = good().replace(`--file=./clusterconfig/cp2.yaml --insecure`, `--file=./clusterconfig/cp2.yaml --insecure --cert-fingerprint=${fp}`);
    const r = await c.run(['apply', '--from-talhelper', '-', '--parallel', '4', ...FAST_RETRY], text);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^cp1\\s+${ip(21).replace(/\./g, '\\.')}\\s+same node as ${ip(1).replace(/\./g, '\\.')}\\s+0$`, 'm'));
    expect(r.stdout).toContain('applied: all 4 node(s) configured and out of maintenance');
    expect(c.sim.node('cp1').appliedConfigs).toHaveLength(1);
    expect(c.sim.node('cp2').appliedConfigs).toHaveLength(1);
  });

  test('verify and status through -e endpoints, nodes given as IP:port; the node behind two addresses counted once', async () => {
    c.startDaemons();
    const nodes = [1, 21, 2, 3].map((n) => `${ip(n)}:50000`).join(',');
    const v = await c.run(['verify', '--nodes', nodes, '-e', ip(3), '--timeout', '90s', '--interval', '500ms']);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('cluster: healthy single cluster: 3 control planes');
    // A daemon finishes once it has seen the cluster formed, which may be after verify has: wait for every one,
    // so that status below meets no agreement server at all rather than whichever ones are still closing.
    expect(await Promise.all(c.daemons.map((d) => d.exitWithin(30_000)))).toEqual([0, 0, 0]);
    const before = c.sim.calls().length;
    const s = await c.run(['status', '--nodes', nodes, '--endpoints', ip(3)]);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain('healthy single cluster: 3 control planes');
    // The daemons finished after the bootstrap, and their agreement servers with them: said as unknown, never guessed.
    expect(s.stdout).toMatch(/^agreement: could not be read; unknown on .*connect ECONNREFUSED .*:24450.*a daemon serves it only while it runs/m);
    expect(s.stdout).toMatch(new RegExp(`^${ip(21).replace(/\./g, '\\.')}:50000\\s+${ip(21).replace(/\./g, '\\.')}:50000\\s+same node as ${ip(1).replace(/\./g, '\\.')}:50000$`, 'm'));
    // The operator's calls reached cp1 and cp2 through cp3's apid (its certificate's CN), one-to-one, with the
    // operator's role carried over; none came from the operator's own certificate (CN operator).
    const mine = c.sim.calls().slice(before).filter((x) => x.node === 'cp1' || x.node === 'cp2');
    expect(mine.filter((x) => x.callerCn === 'cp3' && x.roles.includes('os:admin')).length).toBeGreaterThan(0);
    expect(mine.filter((x) => x.callerCn === 'operator')).toEqual([]);
  });
});
