// make demo, act 2: the operator's side. Six nodes boot in maintenance mode; preflight checks them,
// apply configures them (one flaky node retried), every node then runs the real daemon as Talos would
// (workers exit at once), and verify waits for one healthy etcd cluster. Every command is the compiled binary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { configRows } from '../src/config-help.ts';
import { readable } from './demo-format.ts';
import { DaemonProcess, loopbackDaemonEnv, type LogLine } from '../test/e2e/daemon-process.ts';
import { simIdentities } from '../test/e2e/cluster-harness.ts';
import { sixNodes, startOperatorCluster, type OperatorCluster, type RunResult } from '../test/e2e/operator-harness.ts';
import { assertNoSecrets, linesOf } from '../test/e2e/secret-scan.ts';
import { demoTalosConfigs } from './demo-configs.ts';

const SUBNET = '127.0.150';

function show(title: string, args: string[], r: RunResult): void {
  console.log(`\n$ autobootstrap ${args.join(' ')}    # ${title}`);
  for (const line of r.stderr.trimEnd().split('\n')) if (line) console.log(`  | ${line.replace(/^\S+Z /, '')}`);
  for (const line of r.stdout.trimEnd().split('\n')) console.log(`  ${line}`);
  console.log(`  (exit ${r.code})`);
}

/**
 * Talos starts ext-autobootstrap on every node once it has its config: control planes and workers alike (the
 * image is the same; a worker's daemon sees no etcd PKI and exits 0, which the final table must show). The
 * test harness's fast timers (SCAN_TIMEOUT 800ms) are too tight for a loaded machine, so the demo keeps
 * SCAN_TIMEOUT at its default, as act 1 does.
 */
function startEveryDaemon(c: OperatorCluster): DaemonProcess[] {
  const controlPlanes = c.nodes.filter((n) => n.type !== 'worker');
  const daemons = c.nodes.map((n) => new DaemonProcess(n.name, daemonEnv(c, controlPlanes, n)));
  // machined keeps each service's output: `talosctl logs ext-autobootstrap` (and verify) read it there.
  for (const d of daemons) d.onLine((l) => c.sim.node(d.name).appendLog('ext-autobootstrap', JSON.stringify(l)));
  c.daemons.push(...daemons);
  const defaults = Object.fromEntries(configRows().map((r) => [r.variable, r.defaultText]));
  const env = daemons.length > 0 ? daemonEnv(c, controlPlanes) : {};
  const shortened = Object.entries(env).filter(([k, v]) => TIMERS.includes(k) && defaults[k] !== undefined && defaults[k] !== v);
  console.log(`  timers shortened for the demo (default in brackets): ${shortened.map(([k, v]) => `${k.replace('TALOS_AUTO_BOOTSTRAP_', '')} ${v} [${defaults[k]}]`).join(', ')}`);
  return daemons;
}

/** The variables that set how long the daemon waits; the demo prints those it shortens. */
const TIMERS = ['SCAN_INTERVAL', 'FOLLOWER_CHECK_INTERVAL', 'PRE_BOOTSTRAP_DELAY', 'MAX_BACKOFF', 'SCAN_TIMEOUT', 'STATE_BUSY_TIMEOUT', 'FAILURE_PAUSE'].map((t) => `TALOS_AUTO_BOOTSTRAP_${t}`);

function daemonEnv(c: OperatorCluster, controlPlanes: { ip: string }[], n: { name: string; ip: string } = c.nodes[0]!): Record<string, string> {
  return {
    ...loopbackDaemonEnv({ quorum: controlPlanes.length, hostRoot: c.sim.hostRoot(n.name) as string, nodeIp: n.ip, subnet: SUBNET, peers: controlPlanes.map((x) => x.ip) }),
    TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '2s',
    TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '3s',
  };
}

/** `printed`: the demo's console lines so far, checked for secrets with everything act 2 prints. */
export async function operatorAct(printed: string[] = []): Promise<boolean> {
  console.log('\n\nact 2: from maintenance mode to one cluster, with the operator commands\n');
  const configs = demoTalosConfigs();
  const c = await startOperatorCluster(SUBNET, sixNodes(SUBNET), {
    joinDelayMs: 1_000,
    applyRebootMs: 800,
    etcdStartDelayMs: 500,
    // Without `make oracle` (no Go) the demo still runs, on the simulator's own rendered configs.
    ...(configs.talosConfigs ? { clusters: { default: { talosConfigs: configs.talosConfigs } } } : { renderedConfigs: true }),
  });
  const identities = simIdentities(c.sim);
  let ok = false;
  try {
    // What `talhelper gencommand apply --extra-flags=--insecure` prints; formerly piped into bash.
    const lines = c.nodes.map((n) => `talosctl apply-config --talosconfig=./clusterconfig/talosconfig --nodes=${n.ip} --file=./clusterconfig/${n.name}.yaml --insecure;`);
    writeFileSync(join(c.dir, 'apply.sh'), lines.join('\n') + '\n');
    console.log(`  six nodes in maintenance on ${SUBNET}.0/24; talhelper's apply commands in apply.sh, e.g.\n    ${lines[0]}`);
    c.sim.failMethod('cp2', 'ApplyConfiguration', status.UNAVAILABLE, 2, 'connection error: desc = "transport is closing"');
    console.log('  (cp2 will answer its first two ApplyConfiguration calls with Unavailable)');

    const input = ['--from-talhelper', 'apply.sh'];
    const retry = ['--retry-delay', '500ms'];
    const pre = await c.run(['preflight', ...input]);
    show('every node checked before anything is sent', ['preflight', ...input], pre);
    const apply = await c.run(['apply', ...input, '--parallel', '3', ...retry]);
    show('three at a time, retried with backoff, each seen leaving maintenance', ['apply', ...input, '--parallel', '3', ...retry], apply);

    console.log('\n  Talos starts ext-autobootstrap on every node once it has its config (workers exit at once):');
    const daemons = startEveryDaemon(c);
    for (const d of daemons) {
      // machined's service runner sees each process end (test/sim/extension-services.ts): exit 0 → Finished.
      void d.exited.then((code) => c.sim.extensionExited(d.name, 'autobootstrap', code));
      d.onLine((l: LogLine) => {
        if (['worker', 'decision', 'bootstrap-call', 'bootstrap-done', 'cluster-healthy', 'exit'].includes(String(l.event))) console.log(`  [${d.name}] ${readable(l.msg)}`);
      });
    }
    const verify = await c.run(['verify', ...input, '--interval', '1s', '--timeout', '2m']);
    show('waits for one healthy etcd cluster', ['verify', ...input], verify);
    // Every node's service finishes on its own once the cluster is whole; status then shows it as Talos would.
    const codes = await Promise.all(daemons.map((d) => d.exitWithin(60_000).catch(() => -1)));
    console.log(`\n  every ext-autobootstrap exited: ${daemons.map((d, i) => `${d.name}=${codes[i]}`).join(' ')}`);
    const st = await c.run(['status', ...input]);
    show('the cluster now', ['status', ...input], st);

    ok = codes.every((code) => code === 0) && st.stdout.includes('Finished') && !/\bRunning\s*$/m.test(st.stdout) && pre.code === 0 && apply.code === 0 && verify.code === 0 && c.sim.successfulBootstraps().length === 1 && c.sim.etcdClusters().length === 1;
    console.log(ok ? '\n  act 2: every node configured, Bootstrap called exactly once, one etcd cluster.' : '\n  act 2 UNEXPECTED: see above.');
  } finally {
    // Also checks every line each command and daemon printed for secrets (throws on a hit).
    await c.close().catch((e: unknown) => {
      console.log(`\n  ${String(e)}`);
      ok = false;
    });
  }
  try {
    const n = assertNoSecrets(linesOf('demo', printed), identities);
    console.log(`  no secret in the ${n + c.outputs.length + c.daemons.reduce((a, d) => a + d.outputLines().length, 0)} lines printed (demo, commands, daemons).`);
  } catch (e) {
    console.log(`\n  ${String(e)}`);
    ok = false;
  }
  return ok;
}
