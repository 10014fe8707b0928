// make demo, act 2: the operator's side. Six nodes boot in maintenance mode; preflight checks them,
// apply configures them (one flaky node retried), each control plane then runs the real daemon as
// Talos would, and verify waits for one healthy etcd cluster. Every command is the compiled binary.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import type { LogLine } from '../test/e2e/daemon-process.ts';
import { simIdentities } from '../test/e2e/cluster-harness.ts';
import { sixNodes, startOperatorCluster, type RunResult } from '../test/e2e/operator-harness.ts';
import { assertNoSecrets, linesOf } from '../test/e2e/secret-scan.ts';

const SUBNET = '127.0.150';

function show(title: string, args: string[], r: RunResult): void {
  console.log(`\n$ autobootstrap ${args.join(' ')}    # ${title}`);
  for (const line of r.stderr.trimEnd().split('\n')) if (line) console.log(`  | ${line.replace(/^\S+Z /, '')}`);
  for (const line of r.stdout.trimEnd().split('\n')) console.log(`  ${line}`);
  console.log(`  (exit ${r.code})`);
}

/** `printed`: the demo's console lines so far, checked for secrets with everything act 2 prints. */
export async function operatorAct(printed: string[] = []): Promise<boolean> {
  console.log('\n\nact 2: from maintenance mode to one cluster, with the operator commands\n');
  const c = await startOperatorCluster(SUBNET, sixNodes(SUBNET), { joinDelayMs: 1_000, applyRebootMs: 800, etcdStartDelayMs: 500 });
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

    console.log('\n  Talos starts ext-autobootstrap on each control plane once it has its config:');
    for (const d of c.startDaemons()) {
      d.onLine((l: LogLine) => {
        if (['decision', 'bootstrap-call', 'bootstrap-done', 'cluster-healthy', 'exit'].includes(String(l.event))) console.log(`  [${d.name}] ${l.msg}`);
      });
    }
    const verify = await c.run(['verify', ...input, '--interval', '1s', '--timeout', '2m']);
    show('waits for one healthy etcd cluster', ['verify', ...input], verify);
    const st = await c.run(['status', ...input]);
    show('the cluster now', ['status', ...input], st);

    ok = pre.code === 0 && apply.code === 0 && verify.code === 0 && c.sim.successfulBootstraps().length === 1 && c.sim.etcdClusters().length === 1;
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
