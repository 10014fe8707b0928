// The whole operator path against a cluster booted in maintenance mode, with the compiled binary:
// preflight passes, apply configures every node (one after another, or three at a time), the real
// daemons bootstrap etcd once, verify reports one healthy cluster and status shows it.
import { afterEach, describe, expect, test } from 'bun:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { SimEvent } from '../sim/index.ts';
import { FAST_RETRY, sixNodes, startOperatorCluster, type OperatorCluster } from './operator-harness.ts';

let c: OperatorCluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

/** config-applied and node-up events in order, to see how applies and reboots interleave. */
function recordApplyOrder(cluster: OperatorCluster): string[] {
  const order: string[] = [];
  cluster.sim.onEvent((e: SimEvent) => {
    if (e.kind === 'config-applied') order.push(`applied ${e.node}`);
    if (e.kind === 'node-up') order.push(`up ${e.node}`);
  });
  return order;
}

/** The most nodes at once between their config being applied and their coming back with it. */
function peakInFlight(order: string[]): number {
  let inFlight = 0;
  let peak = 0;
  for (const e of order) {
    inFlight += e.startsWith('applied') ? 1 : -1;
    peak = Math.max(peak, inFlight);
  }
  return peak;
}

async function daemonsBootstrapThenVerify(cluster: OperatorCluster, inputArgs: string[]): Promise<void> {
  const daemons = cluster.startDaemons();
  const verify = await cluster.run(['verify', ...inputArgs, '--interval', '500ms', '--timeout', '60s']);
  expect(verify.code).toBe(0);
  expect(verify.stdout).toMatch(/cluster: healthy single cluster: 3 control planes, all voting members of one etcd cluster of 3 members/);
  expect(verify.stdout).toMatch(/verified after .*: every node configured, one healthy etcd cluster/);
  expect(await Promise.all(daemons.map((d) => d.exitWithin(30_000)))).toEqual([0, 0, 0]);
  expect(cluster.sim.successfulBootstraps()).toHaveLength(1);
  expect(cluster.sim.etcdClusters()).toHaveLength(1);

  const status = await cluster.run(['status', ...inputArgs]);
  expect(status.code).toBe(0);
  const rows = status.stdout.trim().split('\n');
  expect(rows[0]).toMatch(/^NODE\s+ADDRESS\s+ROLE\s+STAGE\s+ETCD\s+MEMBER ID\s+EXT-AUTOBOOTSTRAP\s+AGREEMENT$/);
  const members = cluster.sim.etcdClusters()[0]?.members ?? [];
  for (const name of ['cp1', 'cp2', 'cp3']) {
    const id = BigInt(members.find((m) => m.node === name)?.id ?? '0').toString(16).padStart(16, '0');
    expect(status.stdout).toMatch(new RegExp(`${name}\\s+\\S+\\s+controlplane\\s+running\\s+Running\\s+${id}\\s+Running`));
  }
  expect(status.stdout).toMatch(/w1\s+\S+\s+worker\s+running\s+-/);
  expect(rows.at(-1)).toBe('healthy single cluster: 3 control planes, all voting members of one etcd cluster of 3 members');

  const json = JSON.parse((await cluster.run(['status', ...inputArgs, '--output', 'json'])).stdout) as { cluster: { kind: string }; nodes: unknown[] };
  expect(json.cluster.kind).toBe('healthy');
  expect(json.nodes).toHaveLength(6);
}

describe('3 control planes + 3 workers in maintenance', () => {
  test('sequential apply from a plan file', async () => {
    c = await startOperatorCluster('127.0.142', sixNodes('127.0.142'));
    const cluster = c;
    const plan = join(cluster.dir, 'plan.yaml');
    writeFileSync(plan, stringify({ nodes: cluster.nodes.map((n) => ({ address: n.ip, file: `clusterconfig/${n.name}.yaml`, name: n.name })) }));

    const preflight = await cluster.run(['preflight', '--plan', 'plan.yaml', '--output', 'json', ...FAST_RETRY]);
    expect(preflight.code).toBe(0);
    const pf = JSON.parse(preflight.stdout) as { ok: boolean; nodes: { name: string; checks: { name: string; result: string }[] }[] };
    expect(pf.ok).toBe(true);
    expect(pf.nodes.map((n) => n.checks.map((ch) => `${ch.name}:${ch.result}`).join(' '))).toEqual(
      Array(6).fill('reachable:pass maintenance:pass config:pass machine-type:pass ca-key:pass install-disk:pass machine-config:pass'),
    );

    const order = recordApplyOrder(cluster);
    const apply = await cluster.run(['apply', '--plan', 'plan.yaml', ...FAST_RETRY]);
    expect(apply.code).toBe(0);
    expect(apply.stdout).toContain('applied: all 6 node(s) configured and out of maintenance');
    expect(apply.stderr).toMatch(/applying to 6 node\(s\), 1 at a time; retries 5 \(delays 100ms, 200ms, 400ms, 800ms, 1s\)/);
    // One after another: each node is applied only after the previous one came back with its config.
    expect(order).toEqual(['cp1', 'cp2', 'cp3', 'w1', 'w2', 'w3'].flatMap((n) => [`applied ${n}`, `up ${n}`]));
    expect(cluster.sim.nodes().every((n) => !n.maintenance && n.appliedConfigs.length === 1 && n.appliedConfigs[0]?.mode === 'NO_REBOOT')).toBe(true);
    expect(cluster.sim.calls().filter((r) => r.method.endsWith('/ApplyConfiguration')).map((r) => r.roles.join())).toEqual(Array(6).fill('os:reader'));

    await daemonsBootstrapThenVerify(cluster, ['--plan', 'plan.yaml']);
  });

  test('--parallel 3 from talhelper output on stdin', async () => {
    c = await startOperatorCluster('127.0.143', sixNodes('127.0.143'));
    const cluster = c;
    // What `talhelper gencommand apply --extra-flags=--insecure` prints for this cluster.
    const talhelper = cluster.nodes.map((n) => `talosctl apply-config --talosconfig=./clusterconfig/talosconfig --nodes=${n.ip} --file=./clusterconfig/${n.name}.yaml --insecure;`).join('\n') + '\n';

    const preflight = await cluster.run(['preflight', '--from-talhelper', '-', ...FAST_RETRY], talhelper);
    expect(preflight.code).toBe(0);
    expect(preflight.stdout).toContain('preflight passed: 6 node(s) ready for apply');

    const order = recordApplyOrder(cluster);
    // No node reboots into its config before three have accepted theirs: only three applies in flight
    // at once get there, one at a time would wait for the first node forever (until --wait-timeout).
    cluster.sim.holdReboots();
    const release = cluster.sim.onEvent((e: SimEvent) => {
      if (e.kind === 'config-applied' && order.filter((o) => o.startsWith('applied')).length === 3) cluster.sim.releaseReboots();
    });
    const apply = await cluster.run(['apply', '--from-talhelper', '-', '--parallel', '3', '--wait-timeout', '60s', '--output', 'json', ...FAST_RETRY], talhelper);
    release();
    expect(apply.code).toBe(0);
    const result = JSON.parse(apply.stdout) as { ok: boolean; parallel: number; nodes: { name: string; ok: boolean }[] };
    expect(result.ok).toBe(true);
    expect(result.parallel).toBe(3);
    expect(result.nodes.map((n) => [n.name, n.ok])).toEqual(['cp1', 'cp2', 'cp3', 'w1', 'w2', 'w3'].map((n) => [n, true]));
    // Three at a time: the first three applies came before any node was back (by construction, above),
    // and never more than three nodes were between their apply and their return.
    expect(order.slice(0, 3).sort()).toEqual(['applied cp1', 'applied cp2', 'applied cp3']);
    expect(order.filter((e) => e.startsWith('applied'))).toHaveLength(6);
    expect(peakInFlight(order)).toBe(3);

    writeFileSync(join(cluster.dir, 'apply.sh'), talhelper);
    await daemonsBootstrapThenVerify(cluster, ['--from-talhelper', 'apply.sh']);
  });
});
