// make demo: a simulated Talos cluster (3 control planes, 2 workers) on loopback, the real compiled
// daemons on every node, and a timeline of what each saw and decided. Ends with who bootstrapped, how
// long it took, and how many etcd clusters exist (the answer must be one). Act 2 (demo-operator.ts) is the
// operator's side: maintenance mode, preflight, apply, the daemons bootstrap, verify.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess, type LogLine } from '../test/e2e/daemon-process.ts';
import { operatorAct } from './demo-operator.ts';
import { TalosSimulator, type NodeSpec, type SimEvent } from '../test/sim/index.ts';

const SUBNET = '127.0.90';
const t0 = performance.now();
const startedAt = Date.now();
const since = () => `+${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (who: string, text: string) => console.log(`${since()}  ${who.padEnd(10)} ${text}`);

const bootBase = Math.floor(Date.now() / 1000) - 600;
const nodes: NodeSpec[] = [
  { name: 'cp1', ip: `${SUBNET}.11`, type: 'controlplane', bootTime: bootBase + 40 },
  { name: 'cp2', ip: `${SUBNET}.12`, type: 'controlplane', bootTime: bootBase + 10 },
  { name: 'cp3', ip: `${SUBNET}.13`, type: 'controlplane', bootTime: bootBase + 70, up: false },
  { name: 'worker1', ip: `${SUBNET}.21`, type: 'worker', bootTime: bootBase + 20 },
  { name: 'worker2', ip: `${SUBNET}.22`, type: 'worker', bootTime: bootBase + 30 },
];

const dir = mkdtempSync(join(tmpdir(), 'autobootstrap-demo-'));
const sim = await TalosSimulator.start({ nodes, hostRootDir: dir, joinDelayMs: 1_500, etcdStartDelayMs: 500 });

console.log('autobootstrap demo: a simulated Talos cluster on loopback, the real daemons on every node\n');
console.log('  node       address        role           boot time (SystemStat)');
for (const n of nodes) console.log(`  ${n.name.padEnd(10)} ${n.ip.padEnd(14)} ${n.type.padEnd(14)} ${n.bootTime}${n.up === false ? '  (powered on later)' : ''}`);
console.log('\n  Every daemon: TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=3, DISCOVERY=members,scan,static, SCAN_CIDR=' + `${SUBNET}.0/24` + '. Expect cp2 (oldest boot) to lead.\n');

sim.onEvent((e: SimEvent) => {
  switch (e.kind) {
    case 'bootstrap':
      say('talos', `Bootstrap on ${e.record.node} from ${e.record.callerCn ?? '?'} → ${e.record.codeName}`);
      break;
    case 'etcd-formed':
      say('talos', `etcd cluster ${e.clusterId} formed on ${e.node}`);
      break;
    case 'etcd-joined':
      say('talos', `${e.node} joined etcd cluster ${e.clusterId} as member ${e.memberId}`);
      break;
    case 'node-up':
      say('talos', `${e.node} is up (apid listening)`);
      break;
    case 'tls-refused':
      say('talos', `refused a TLS client on ${e.record.node}: ${e.record.reason}`);
      break;
  }
});

const env = {
  TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3',
  TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: `${SUBNET}.0/24`,
  TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'members,scan,static',
  TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '2s',
  TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: '1s',
  TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '3s',
  TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '1s',
};
const SHOWN = new Set(['worker', 'control-plane', 'decision', 'settle', 'peer-ignored', 'bootstrap-call', 'bootstrap-done', 'bootstrap-error', 'local-etcd-healthy', 'waiting-join', 'cluster-healthy', 'split-brain', 'exit', 'dry-run']);

const daemons: DaemonProcess[] = [];
function startDaemon(n: NodeSpec): void {
  const d = new DaemonProcess(n.name, {
    ...env,
    TALOS_AUTO_BOOTSTRAP_HOST_ROOT: sim.hostRoot(n.name) as string,
    TALOS_AUTO_BOOTSTRAP_NODE_IP: n.ip,
    TALOS_AUTO_BOOTSTRAP_LOCAL_APID: n.ip,
  });
  daemons.push(d);
  d.onLine((l: LogLine) => {
    if (SHOWN.has(String(l.event))) say(n.name, l.msg);
  });
}

for (const n of nodes.filter((x) => x.up !== false)) startDaemon(n);
await Bun.sleep(5_000);
say('operator', 'powering on cp3');
await sim.up('cp3');
startDaemon(nodes[2]!);

const codes = await Promise.all(daemons.map((d) => d.exitWithin(120_000).catch(() => -1)));
const bootstraps = sim.bootstrapCalls();
const ok = sim.successfulBootstraps();
const clusters = sim.etcdClusters();
const firstBootstrapAt = ok[0]?.at.getTime();
console.log('\nsummary');
console.log(`  daemons exited:      ${daemons.map((d, i) => `${d.name}=${codes[i]}`).join(' ')}`);
console.log(`  Bootstrap calls:     ${bootstraps.length} (${bootstraps.map((b) => `${b.node}:${b.codeName}`).join(', ') || 'none'})`);
console.log(`  bootstrapped by:     ${ok.map((b) => b.node).join(', ') || 'nobody'}`);
if (firstBootstrapAt !== undefined) console.log(`  time to Bootstrap:   ${((firstBootstrapAt - startedAt) / 1000).toFixed(1)}s after the first daemons started (cp3 powered on at 5s)`);
console.log(`  etcd clusters:       ${clusters.length}${clusters[0] ? ` (members: ${clusters[0].members.map((m) => m.node).join(', ')})` : ''}`);
const success = ok.length === 1 && clusters.length === 1 && codes.every((c) => c === 0);
console.log(success ? '\n  exactly one cluster, bootstrapped exactly once.' : '\n  UNEXPECTED: see the timeline above.');

await sim.stop();
rmSync(dir, { recursive: true, force: true });
const operatorSuccess = await operatorAct();
process.exit(success && operatorSuccess ? 0 : 1);
