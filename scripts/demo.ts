// make demo: a simulated Talos cluster (3 control planes, 2 workers) on loopback, the real compiled
// daemons on every node, and a timeline of what each saw and decided. Ends with who bootstrapped, how
// long it took, and how many etcd clusters exist (the answer must be one). Act 2 (demo-operator.ts) is the
// operator's side: maintenance mode, preflight, apply, the daemons bootstrap, verify.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configRows } from '../src/config-help.ts';
import { parseDuration } from '../src/util/duration.ts';
import { simIdentities } from '../test/e2e/cluster-harness.ts';
import { DaemonProcess, type LogLine } from '../test/e2e/daemon-process.ts';
import { assertNoSecrets, captureConsole, linesOf } from '../test/e2e/secret-scan.ts';
import { clock, hexId, readable } from './demo-format.ts';
import { operatorAct } from './demo-operator.ts';
import { TalosSimulator, type NodeSpec, type SimEvent } from '../test/sim/index.ts';
import { serviceStatuses } from '../test/sim/node-services.ts';
import { demoTalosConfigs } from './demo-configs.ts';

const SUBNET = '127.0.90';
// Every line this demo prints, and every line each daemon prints, is checked for secrets at the end.
const printed = captureConsole();
const t0 = performance.now();
const startedAt = Date.now();
const since = () => `+${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s`;
const say = (who: string, text: string) => console.log(`${since()}  ${who.padEnd(10)} ${readable(text)}`);

const bootBase = Math.floor(Date.now() / 1000) - 600;
const nodes: NodeSpec[] = [
  { name: 'cp1', ip: `${SUBNET}.11`, type: 'controlplane', bootTime: bootBase + 40 },
  { name: 'cp2', ip: `${SUBNET}.12`, type: 'controlplane', bootTime: bootBase + 10 },
  { name: 'cp3', ip: `${SUBNET}.13`, type: 'controlplane', bootTime: bootBase + 70, up: false },
  { name: 'worker1', ip: `${SUBNET}.21`, type: 'worker', bootTime: bootBase + 20 },
  { name: 'worker2', ip: `${SUBNET}.22`, type: 'worker', bootTime: bootBase + 30 },
];

const dir = mkdtempSync(join(tmpdir(), 'autobootstrap-demo-'));
// Every node holds the config Talos's own generator wrote (make oracle), as talosctl gen config would.
const configs = demoTalosConfigs();
const sim = await TalosSimulator.start({
  nodes,
  hostRootDir: dir,
  joinDelayMs: 1_500,
  etcdStartDelayMs: 500,
  // Without `make oracle` (no Go) the demo still runs, on the simulator's own rendered configs.
  ...(configs.talosConfigs ? { clusters: { default: { talosConfigs: configs.talosConfigs } } } : { renderedConfigs: true }),
});

console.log('autobootstrap demo: a simulated Talos cluster on loopback, the real daemons on every node');
console.log(`(${configs.source})\n`);
console.log('  node       address        role           booted (UTC)');
for (const n of nodes) console.log(`  ${n.name.padEnd(10)} ${n.ip.padEnd(14)} ${n.type.padEnd(14)} ${clock(n.bootTime as number)}${n.up === false ? '  (powered on later)' : ''}`);

sim.onEvent((e: SimEvent) => {
  switch (e.kind) {
    case 'bootstrap':
      say('talos', `Bootstrap on ${e.record.node} from ${e.record.callerCn ?? '?'} → ${e.record.codeName}`);
      break;
    case 'etcd-formed':
      say('talos', `etcd cluster ${hexId(e.clusterId)} formed on ${e.node}`);
      break;
    case 'etcd-joined':
      say('talos', `${e.node} joined etcd cluster ${hexId(e.clusterId)} as member ${hexId(e.memberId)}`);
      break;
    case 'node-up':
      say('talos', `${e.node} is up (apid listening)`);
      break;
    case 'tls-refused':
      say('talos', `refused a TLS client on ${e.record.node}: ${e.record.reason}`);
      break;
  }
});

// Timers shortened so the demo lasts seconds; DEFAULTS are what a node uses when they are not set.
// SCAN_TIMEOUT keeps its default (2s): on a loaded machine a TLS handshake can take longer than a second.
const SHORTENED = {
  TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '3s',
  TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: '1s',
  TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '3s',
};
// The defaults come from the configuration schema itself, so the demo cannot misquote them.
const DEFAULTS = Object.fromEntries(configRows().map((r) => [r.variable, r.defaultText])) as Record<string, string>;
const defaultMs = (name: string) => parseDuration(DEFAULTS[name] ?? '') ?? NaN;
const env = {
  TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3',
  TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: `${SUBNET}.0/24`,
  TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'members,scan,static',
  ...SHORTENED,
};
console.log(`\n  Every daemon: QUORUM_NODES=3, DISCOVERY=members,scan,static, SCAN_CIDR=${SUBNET}.0/24. Expect cp2 (oldest boot) to lead.`);
console.log('  Timers shortened for the demo (default in brackets):');
for (const [k, v] of Object.entries(SHORTENED)) console.log(`    ${k.replace('TALOS_AUTO_BOOTSTRAP_', '').padEnd(24)} ${v.padEnd(4)} [${DEFAULTS[k]}]`);
console.log('');
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
  // machined's service runner sees the process end: exit 0 → Finished, non-zero → Waiting and a restart
  // (restart: untilSuccess), as test/sim/extension-services.ts models from Talos's source.
  void d.exited.then((code) => sim.extensionExited(n.name, 'autobootstrap', code));
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
if (firstBootstrapAt !== undefined) {
  const measured = (firstBootstrapAt - startedAt) / 1000;
  const delay = 'TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY';
  const delayDifference = (defaultMs(delay) - (parseDuration(SHORTENED[delay]) ?? 0)) / 1000;
  console.log(`  time to Bootstrap:   ${measured.toFixed(1)} s after the first daemons started (cp3 powered on at 5 s), with the shortened timers`);
  console.log(`                       with the default timers: about ${(measured + delayDifference).toFixed(1)} s (PRE_BOOTSTRAP_DELAY ${DEFAULTS[delay]} instead of ${SHORTENED[delay]}) when cluster`);
  console.log('                       discovery announces the last control plane (members react at once); with the scan alone, up to one');
  console.log(`                       SCAN_INTERVAL (${DEFAULTS.TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL}) more (BENCHMARKS.md). A real cluster adds what no simulator has: installing,`);
  console.log('                       rebooting, time sync, pulling the etcd image.');
}
console.log(`  etcd clusters:       ${clusters.length}${clusters[0] ? ` (members: ${clusters[0].members.map((m) => m.node).join(', ')})` : ''}`);
// What `talosctl services` shows for the extension now, from the simulated machined.
const extStates = nodes.map((n) => {
  const s = serviceStatuses(sim.node(n.name)).find((x) => x.id === 'ext-autobootstrap');
  return `${n.name}=${s?.state ?? 'absent'}`;
});
console.log(`  ext-autobootstrap:   ${extStates.join(' ')} (talosctl services; Finished = exited 0)`);
const success = ok.length === 1 && clusters.length === 1 && codes.every((c) => c === 0) && extStates.every((x) => x.endsWith('=Finished'));
console.log(success ? '\n  exactly one cluster, bootstrapped exactly once.' : '\n  UNEXPECTED: see the timeline above.');

await Promise.all(daemons.map((d) => d.drained));
let clean = true;
try {
  const n = assertNoSecrets([...linesOf('demo', printed), ...daemons.flatMap((d) => d.outputLines())], simIdentities(sim));
  console.log(`  no secret in the ${n} lines printed (demo and daemons).`);
} catch (e) {
  console.log(`\n  ${String(e)}`);
  clean = false;
}
await sim.stop();
rmSync(dir, { recursive: true, force: true });
const operatorSuccess = await operatorAct(printed);
process.exit(success && clean && operatorSuccess ? 0 : 1);
