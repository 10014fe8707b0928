// Preflight against what a node really has (install disk selection), and bad input: one clear error,
// exit 2, nothing sent to any node.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startOperatorCluster, FAST_RETRY, type OperatorCluster } from './operator-harness.ts';

const SUBNET = '127.0.145';
let c: OperatorCluster;

const NVME = { id: 'nvme0n1', size: 2_000_398_934_016, model: 'Samsung SSD 980 PRO 2TB', serial: 'S6B0NL0W123456', transport: 'nvme' };

beforeAll(async () => {
  c = await startOperatorCluster(SUBNET, [
    { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', maintenance: true },
    { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane', maintenance: true, disks: [NVME] },
  ]);
  // Both configs select a big NVMe disk instead of naming /dev/sda.
  for (const name of ['cp1', 'cp2']) {
    const text = readFileSync(c.configPath(name), 'utf8');
    const changed = text.replace('        disk: /dev/sda\n', "        diskSelector:\n            size: '>= 1TB'\n            type: nvme\n");
    expect(changed).not.toBe(text);
    writeFileSync(c.configPath(name), changed);
  }
});
afterAll(async () => {
  await c.close();
});

describe('install disk', () => {
  test('a selector that matches no disk fails that node, showing the selector and the disks side by side', async () => {
    const r = await c.run(['preflight', '--nodes', `${SUBNET}.1`, '--file', 'clusterconfig/cp1.yaml', ...FAST_RETRY]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${SUBNET}.1 (${SUBNET}.1) install-disk: diskSelector {"size":">= 1TB","type":"nvme"} matches no disk; the node has: /dev/sda, 21 GB, model "QEMU HARDDISK", serial "QM00001", transport virtio, rotational (/dev/sda: size 21 GB is not ">= 1TB", type nvme, but transport is virtio)`,
    );
    expect(r.stdout).toContain('fix: fix machine.install.disk / diskSelector to match one of the disks shown');
  });

  test('the same selector passes on the node that has such a disk', async () => {
    const r = await c.run(['preflight', '--nodes', `${SUBNET}.2`, '--file', 'clusterconfig/cp2.yaml', '--output', 'json', ...FAST_RETRY]);
    expect(r.code).toBe(0);
    const checks = (JSON.parse(r.stdout) as { nodes: { checks: { name: string; detail: string }[] }[] }).nodes[0]?.checks;
    expect(checks?.find((x) => x.name === 'install-disk')?.detail).toBe('diskSelector {"size":">= 1TB","type":"nvme"} selects /dev/nvme0n1');
  });
});

describe('bad input: exit 2, one error naming it, no node touched', () => {
  const cases: [string, string[], string | undefined, RegExp][] = [
    ['unknown flag', ['apply', '--node', `${SUBNET}.1`], undefined, /autobootstrap apply: unknown flag --node; valid flags: --nodes\/-n/],
    ['bad parallel', ['apply', '--nodes', `${SUBNET}.1`, '--file', 'clusterconfig/cp1.yaml', '--parallel', '0'], undefined, /--parallel "0" is not valid; use a whole number from 1 to 256/],
    ['missing config file', ['apply', '--nodes', `${SUBNET}.1`, '--file', 'nope.yaml'], undefined, /cannot read .*nope\.yaml \(ENOENT\); check the path given for this node/],
    ['talhelper line that is not apply-config', ['apply', '--from-talhelper', '-'], 'talosctl upgrade --nodes=1.2.3.4 --image=x;\n', /line 1: expected "talosctl apply-config", got "talosctl upgrade"/],
    ['plan with a typo', ['preflight', '--plan', 'bad-plan.yaml'], undefined, /plan bad-plan\.yaml, node 1: unknown key "adress"; valid keys: address, file, name/],
    ['talosconfig without the context', ['status', '--nodes', `${SUBNET}.1`, '--context', 'prod'], undefined, /talosconfig .* has no context "prod"; contexts: sim/],
    ['bad timeout', ['verify', '--nodes', `${SUBNET}.1`, '--timeout', 'soon'], undefined, /--timeout "soon" is not a duration/],
  ];
  beforeAll(() => writeFileSync(join(c.dir, 'bad-plan.yaml'), 'nodes:\n  - adress: 10.0.0.1\n    file: a.yaml\n'));
  for (const [name, args, stdin, message] of cases) {
    test(name, async () => {
      const before = c.sim.calls().length;
      const r = await c.run(args, stdin);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(2); // the error and the pointer to --help
      expect(r.stdout).toBe('');
      expect(c.sim.calls().length).toBe(before);
    });
  }

  test('--help lists the flags with their defaults', async () => {
    const r = await c.run(['apply', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--parallel VALUE\s+nodes configured at once \(1 = one after another\) \(default 1\)/);
    expect(r.stdout).toMatch(/--retry-delay VALUE\s+delay before the first retry \(default 3s\)/);
    expect(r.stdout).toContain('talhelper gencommand apply --extra-flags=--insecure | autobootstrap apply --from-talhelper -');
  });
});
