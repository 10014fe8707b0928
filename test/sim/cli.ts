#!/usr/bin/env bun
// Runs a simulated Talos cluster until SIGTERM/SIGINT, for `make demo` and manual experiments.
// stdout: line 1 is one JSON object describing the nodes (for scripts); then one readable line per event.
//
//   bun test/sim/cli.ts --control-planes 3 --workers 2 --subnet 127.0.5 --dir .tmp/demo --join-delay 2s
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { formatEvent } from './records.ts';
import { TalosSimulator } from './simulator.ts';
import type { NodeSpec } from './types.ts';

const USAGE = `usage: bun test/sim/cli.ts [options]
  --control-planes N     control-plane nodes cp1..cpN (default 3)
  --workers N            worker nodes w1..wN (default 0)
  --other-cluster N      control planes of another cluster (other OS CA) on the same subnet (default 0)
  --subnet A.B.C         loopback /24 to use (default 127.0.5); nodes get .1, .2, ...
  --port P               apid port (default 50000)
  --dir PATH             where host-root fixture trees and client credentials go (default .tmp/sim)
  --join-delay D         etcd join delay after a cluster forms (default 2s)
  --etcd-start-delay D   etcd start delay after Bootstrap (default 200ms)
  --time-sync-wait D     how long Bootstrap waits for time sync (default 5s)
  --boot-step S          seconds between successive nodes' boot times (default 5)
  --bootstrapped         start with an etcd cluster already formed on cp1, every control plane joined
  --no-discovery         cluster discovery disabled (no Members; member list needs Kubernetes endpoints)
  --v1alpha1-last        write the v1alpha1 document after the others in config.yaml
  --rendered-configs     serve the simulator's own rendered configs, not Talos-generated ones (no \`make oracle\`)
  --json-events          print events as JSON lines instead of readable lines
  --control-stdin        accept commands on stdin: down NODE | up NODE | partition CN [NODE...] | heal [CN...]
Durations: 500ms, 2s, 1m, or plain milliseconds.`;

export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new Error(`not a duration: ${text}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n);
}

function count(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer, got ${text}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'control-planes': { type: 'string' },
      workers: { type: 'string' },
      'other-cluster': { type: 'string' },
      subnet: { type: 'string' },
      port: { type: 'string' },
      dir: { type: 'string' },
      'join-delay': { type: 'string' },
      'etcd-start-delay': { type: 'string' },
      'time-sync-wait': { type: 'string' },
      'boot-step': { type: 'string' },
      bootstrapped: { type: 'boolean' },
      'no-discovery': { type: 'boolean' },
      'v1alpha1-last': { type: 'boolean' },
      'rendered-configs': { type: 'boolean' },
      'json-events': { type: 'boolean' },
      'control-stdin': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const cps = count(values['control-planes'], 'control-planes', 3);
  const workers = count(values.workers, 'workers', 0);
  const others = count(values['other-cluster'], 'other-cluster', 0);
  const subnet = values.subnet ?? '127.0.5';
  if (!/^127\.\d{1,3}\.\d{1,3}$/.test(subnet)) throw new Error(`--subnet must be a loopback /24 prefix like 127.0.5, got ${subnet}`);
  const port = count(values.port, 'port', 50000);
  const dir = resolve(values.dir ?? '.tmp/sim');
  const bootStep = count(values['boot-step'], 'boot-step', 5);
  if (cps + workers + others > 253) throw new Error('at most 253 nodes fit in one /24');

  const now = Math.floor(Date.now() / 1000);
  const specs: NodeSpec[] = [];
  const add = (name: string, type: NodeSpec['type'], cluster: string) =>
    specs.push({ name, ip: `${subnet}.${specs.length + 1}`, port, type, cluster, bootTime: now - 600 + specs.length * bootStep });
  for (let i = 1; i <= cps; i++) add(`cp${i}`, 'controlplane', 'default');
  for (let i = 1; i <= workers; i++) add(`w${i}`, 'worker', 'default');
  for (let i = 1; i <= others; i++) add(`other-cp${i}`, 'controlplane', 'other');

  mkdirSync(dir, { recursive: true });
  const sim = await TalosSimulator.start({
    nodes: specs,
    hostRootDir: join(dir, 'nodes'),
    joinDelayMs: values['join-delay'] ? parseDuration(values['join-delay']) : 2000,
    etcdStartDelayMs: values['etcd-start-delay'] ? parseDuration(values['etcd-start-delay']) : 200,
    timeSyncWaitMs: values['time-sync-wait'] ? parseDuration(values['time-sync-wait']) : 5000,
    clusters: { default: { discovery: !values['no-discovery'] }, other: { discovery: !values['no-discovery'] } },
    ...(values.bootstrapped && cps > 0 ? { bootstrapped: 'cp1' } : {}),
    v1alpha1Last: values['v1alpha1-last'] ?? false,
    renderedConfigs: values['rendered-configs'] ?? false,
  });

  // Credentials an operator (or the demo script) needs to talk to the nodes of each cluster.
  const groups = [...new Set(specs.map((s) => s.cluster ?? 'default'))];
  const clusters = groups.map((group) => {
    const gdir = join(dir, 'clusters', group);
    mkdirSync(gdir, { recursive: true });
    const admin = sim.clientCertificate({ group, roles: ['os:admin'], cn: 'operator' });
    const files = { caCert: join(gdir, 'ca.crt'), adminCert: join(gdir, 'admin.crt'), adminKey: join(gdir, 'admin.key') };
    writeFileSync(files.caCert, sim.osCaPem(group));
    writeFileSync(files.adminCert, admin.certPem);
    writeFileSync(files.adminKey, admin.keyPem, { mode: 0o600 });
    return { group, clusterName: sim.identity(group).clusterName, ...files };
  });

  const description = {
    dir,
    nodes: sim.nodes().map((n) => ({
      name: n.name,
      ip: n.ip,
      port: n.port,
      hostRoot: sim.hostRoot(n.name),
      type: n.type,
      bootTime: n.bootTime,
      cluster: n.group,
    })),
    clusters,
  };
  process.stdout.write(JSON.stringify(description) + '\n');
  sim.onEvent((e) => process.stdout.write((values['json-events'] ? JSON.stringify(e) : formatEvent(e)) + '\n'));

  if (values['control-stdin']) {
    const rl = createInterface({ input: process.stdin });
    rl.on('line', (line) => {
      const [cmd, ...args] = line.trim().split(/\s+/);
      try {
        if (cmd === 'down' && args[0]) sim.down(args[0]);
        else if (cmd === 'up' && args[0]) void sim.up(args[0]);
        else if (cmd === 'partition' && args[0]) sim.partition([args[0]], args.length > 1 ? args.slice(1) : undefined);
        else if (cmd === 'heal') sim.heal(args.length > 0 ? args : undefined);
        else if (cmd) process.stderr.write(`unknown command: ${line}\n`);
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
      }
    });
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await sim.stop();
    const ok = sim.successfulBootstraps().length;
    process.stderr.write(`stopped on ${signal}: ${sim.bootstrapCalls().length} Bootstrap calls, ${ok} succeeded, ${sim.etcdClusters().length} etcd clusters\n`);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  });
}
