// `make bench`: discovery at scale, measured against the compiled daemon and the Talos simulator inside a
// private network namespace this script creates (unshare -n). Only loopback exists there; the simulated
// nodes listen on 127.1.0.1-3 and an nftables rule drops SYNs to every other address of 127.1.0.0/16 on
// the apid port, so probes of dead addresses really time out instead of being refused. Writes
// BENCHMARKS.md: each measure as a ratio to its budget.
import { spawnSync } from 'bun';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARY, DaemonProcess, type LogLine } from '../test/e2e/daemon-process.ts';
import { TalosSimulator } from '../test/sim/index.ts';
import { writeBenchmarksSection } from './benchmarks-file.ts';
import { reexecInNetns } from './netns.ts';

const IN_NETNS = 'AB_BENCH_IN_NETNS';
/** BENCH_QUICK=1 runs the /16 at default concurrency with a 250 ms timeout instead of the default 2 s. */
const QUICK = process.env.BENCH_QUICK === '1';
// Only the full run updates the committed figures; a quick run's figures are not comparable, so they go
// under build/ (ignored by git) and the tree stays clean.
const OUT = QUICK ? join(import.meta.dir, '../build/bench/BENCHMARKS-quick.md') : join(import.meta.dir, '../BENCHMARKS.md');
// This benchmark owns one marked section of BENCHMARKS.md; other sections (make bench-size) are kept as they are.
const BENCH_BEGIN = '<!-- discovery-bench:begin (make bench) -->';
const BENCH_END = '<!-- discovery-bench:end -->';

const LIVE = ['127.1.0.1', '127.1.0.2', '127.1.0.3'];
const DEFAULT_SCAN_TIMEOUT_MS = 2_000;
const DEFAULT_SCAN_INTERVAL_MS = 30_000;
const DEFAULT_PRE_BOOTSTRAP_DELAY_MS = 10_000;

function run(cmd: string[], input?: string): string {
  const r = spawnSync(cmd, { stdin: input === undefined ? 'ignore' : Buffer.from(input), stdout: 'pipe', stderr: 'pipe' });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed (${r.exitCode}): ${r.stderr.toString()}`);
  return r.stdout.toString();
}

// Re-run this script inside a new network namespace: nothing here can reach a real network.
reexecInNetns(IN_NETNS, 'make bench (nftables too)');

const NFT_RULES = `
table ip abbench {
  set live { type ipv4_addr; elements = { ${LIVE.join(', ')} } }
  chain input {
    type filter hook input priority 0; policy accept;
    ip daddr 127.1.0.0/16 tcp dport 50000 ip daddr != @live tcp flags & (syn | ack) == syn counter drop
  }
}
`;

function setUpNetwork(): void {
  run(['ip', 'link', 'set', 'lo', 'up']);
  run(['nft', '-f', '-'], NFT_RULES);
}

function droppedSyns(): number {
  const m = /counter packets (\d+)/.exec(run(['nft', 'list', 'table', 'ip', 'abbench']));
  return Number(m?.[1] ?? 0);
}

function vmHwmKiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

const log = (s: string) => console.error(`[bench] ${s}`);

interface Cluster {
  sim: TalosSimulator;
  dir: string;
  daemon(name: string, env: Record<string, string>): DaemonProcess;
  close(): Promise<void>;
}

async function cluster(cp3Up: boolean): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ab-bench-'));
  const sim = await TalosSimulator.start({
    hostRootDir: dir,
    joinDelayMs: 300,
    nodes: [
      { name: 'cp1', ip: LIVE[0] as string, type: 'controlplane', bootTime: 1_700_000_100 },
      { name: 'cp2', ip: LIVE[1] as string, type: 'controlplane', bootTime: 1_700_000_200 },
      { name: 'cp3', ip: LIVE[2] as string, type: 'controlplane', bootTime: 1_700_000_300, up: cp3Up },
    ],
  });
  const daemons: DaemonProcess[] = [];
  return {
    sim,
    dir,
    daemon(name, env) {
      const d = new DaemonProcess(name, {
        TALOS_AUTO_BOOTSTRAP_HOST_ROOT: sim.hostRoot(name) as string,
        TALOS_AUTO_BOOTSTRAP_NODE_IP: sim.node(name).ip,
        TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: '0s',
        LOG_LEVEL: 'debug',
        ...env,
      });
      daemons.push(d);
      return d;
    },
    async close() {
      for (const d of daemons) d.kill('SIGKILL');
      await Promise.all(daemons.map((d) => d.exited));
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface ScanResult {
  discoveryMs: number[];
  foundControlPlanes: number[];
  vmHwmMiB: number;
  droppedSyns: number;
}

/** One daemon on cp1 scanning with a quorum it can never reach, so that it keeps doing rounds. */
async function scanRounds(prefix: string, env: Record<string, string>, rounds: number, timeoutMs: number): Promise<ScanResult> {
  const c = await cluster(true);
  const before = droppedSyns();
  try {
    const d = c.daemon('cp1', {
      TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '4',
      TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'scan',
      TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: prefix,
      ...env,
    });
    const done: LogLine[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`scan of ${prefix}: ${done.length}/${rounds} rounds within ${timeoutMs} ms\n${d.tail()}`)), timeoutMs);
      const check = (l: LogLine) => {
        if (l.event !== 'discovery') return;
        done.push(l);
        log(`${prefix}: round ${done.length} took ${String(l.discoveryMs)} ms`);
        if (done.length >= rounds) {
          clearTimeout(timer);
          resolve();
        }
      };
      for (const l of d.lines) check(l);
      d.onLine(check);
    });
    const hwm = vmHwmKiB(d.pid);
    return {
      discoveryMs: done.map((l) => Number(l.discoveryMs)),
      foundControlPlanes: done.map((l) => (l.counts as { scan: { controlPlanes: number } }).scan.controlPlanes),
      vmHwmMiB: hwm / 1024,
      droppedSyns: droppedSyns() - before,
    };
  } finally {
    await c.close();
  }
}

interface LatencyResult {
  latencyMs: number;
  phase: string;
  bootstraps: number;
}

/**
 * cp1 (oldest, the leader) and cp2 run; cp3 has never run, so it is neither a member nor listening. At
 * the chosen moment cp3 comes up (becoming a member and answering at once); measured: from then to the
 * leader's Bootstrap call, minus PRE_BOOTSTRAP_DELAY.
 */
async function latency(discovery: 'members' | 'scan' | 'members,scan,static'): Promise<LatencyResult> {
  const c = await cluster(false);
  try {
    const env: Record<string, string> = { TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3', TALOS_AUTO_BOOTSTRAP_DISCOVERY: discovery };
    if (discovery !== 'members') env.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR = '127.1.0.0/24';
    const leader = c.daemon('cp1', env);
    c.daemon('cp2', env);
    await leader.waitFor((l) => l.msg.startsWith('quorum 2/3'), 60_000, 'quorum 2/3');
    let phase: string;
    if (discovery === 'scan') {
      // The worst moment for a scan: just after a round has started and probed cp3's address (refused).
      const seen = leader.lines.length;
      await leader.waitFor((l) => l.event === 'round-start' && leader.lines.indexOf(l) >= seen, 60_000, 'next round start');
      await Bun.sleep(100);
      phase = 'cp3 came up 100 ms after a round of the leader started (the scan had just found its address closed): the worst case';
    } else {
      await Bun.sleep(1_000);
      phase = 'cp3 came up while the leader waited for its next round (30 s away)';
    }
    const t0 = Date.now();
    await c.sim.up('cp3');
    await c.sim.waitUntil(() => c.sim.bootstrapCalls().length > 0, 120_000, 'a Bootstrap call');
    const call = c.sim.bootstrapCalls()[0];
    await Bun.sleep(1_000);
    return { latencyMs: (call?.at.getTime() ?? NaN) - t0 - DEFAULT_PRE_BOOTSTRAP_DELAY_MS, phase, bootstraps: c.sim.bootstrapCalls().length };
  } finally {
    await c.close();
  }
}

const fmtS = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const ratio = (v: number, budget: number) => (v / budget).toFixed(2);
const max = (xs: number[]) => Math.max(...xs);

async function main(): Promise<void> {
  setUpNetwork();
  const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
  const started = Date.now();

  if (process.env.BENCH_ONLY === 'latency') {
    for (const kind of ['members', 'members,scan,static', 'scan'] as const) log(`${kind}: ${(await latency(kind)).latencyMs} ms`);
    return;
  }
  log('/24 at default settings');
  const s24 = await scanRounds('127.1.0.0/24', { TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '5s' }, 3, 60_000);
  log(`/24 peak RSS ${s24.vmHwmMiB.toFixed(1)} MiB`);
  if (process.env.BENCH_ONLY === '24') return;
  log('/16 with SCAN_CONCURRENCY=4096');
  const s16 = await scanRounds('127.1.0.0/16', { TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: '4096', TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '5m' }, 1, 180_000);
  log(`/16 peak RSS ${s16.vmHwmMiB.toFixed(1)} MiB`);
  if (process.env.BENCH_ONLY === '16') return;
  const defaultTimeout = QUICK ? 250 : DEFAULT_SCAN_TIMEOUT_MS;
  log(`/16 at default concurrency, SCAN_TIMEOUT=${defaultTimeout}ms`);
  const s16d = await scanRounds('127.1.0.0/16', { TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: `${defaultTimeout}ms`, TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '30m' }, 1, 900_000);
  log('latency with members');
  const lm = await latency('members');
  log(`members: ${lm.latencyMs} ms`);
  log('latency with every source (members, and the scan of a /24)');
  const la = await latency('members,scan,static');
  log(`every source: ${la.latencyMs} ms`);
  log('latency with scan only');
  const ls = await latency('scan');
  log(`scan: ${ls.latencyMs} ms`);

  const loadAfter = readFileSync('/proc/loadavg', 'utf8').trim();
  const binaryMiB = statSync(BINARY).size / 2 ** 20;
  const t24 = max(s24.discoveryMs);
  const t16 = max(s16.discoveryMs);
  const t16d = max(s16d.discoveryMs);
  const budget24 = 1.5 * DEFAULT_SCAN_TIMEOUT_MS;
  const floor16 = Math.ceil(65_534 / 4096) * DEFAULT_SCAN_TIMEOUT_MS;
  const defaultFloor = Math.ceil(65_534 / 256) * defaultTimeout;
  const rows = [
    ['/24 scan, default settings (256 concurrent, SCAN_TIMEOUT 2 s), slowest of 3 rounds', fmtS(t24), `1.5 × SCAN_TIMEOUT = ${fmtS(budget24)}`, ratio(t24, budget24)],
    ['/16 scan, SCAN_CONCURRENCY=4096 (SCAN_TIMEOUT 2 s)', fmtS(t16), '60 s', ratio(t16, 60_000)],
    ['peak RSS of the daemon during that /16 scan (VmHWM)', `${s16.vmHwmMiB.toFixed(1)} MiB`, '150 MiB', ratio(s16.vmHwmMiB, 150)],
    ['peak RSS during the /24 scan, for comparison (the daemon at rest is most of it)', `${s24.vmHwmMiB.toFixed(1)} MiB`, '—', '—'],
    [`/16 scan, default concurrency 256, SCAN_TIMEOUT ${defaultTimeout} ms`, fmtS(t16d), `floor ${Math.ceil(65_534 / 256)} waves × ${defaultTimeout} ms = ${fmtS(defaultFloor)} (no budget)`, ratio(t16d, defaultFloor)],
    ['last control plane visible → Bootstrap call, minus PRE_BOOTSTRAP_DELAY, DISCOVERY=members', fmtS(lm.latencyMs), '2 s', ratio(lm.latencyMs, 2_000)],
    ['the same, default DISCOVERY=members,scan,static (SCAN_CIDR a /24 with 251 dead addresses)', fmtS(la.latencyMs), '2 s', ratio(la.latencyMs, 2_000)],
    ['the same, DISCOVERY=scan (a /24), worst moment', fmtS(ls.latencyMs), `SCAN_INTERVAL + 2 s = ${fmtS(DEFAULT_SCAN_INTERVAL_MS + 2_000)}`, ratio(ls.latencyMs, DEFAULT_SCAN_INTERVAL_MS + 2_000)],
  ];
  const md = `${BENCH_BEGIN}
## Discovery: scans and reaction time

Measured by \`make bench\` on ${new Date().toISOString().slice(0, 10)} (${cpus().length} CPUs, load average before: ${loadBefore}, after: ${loadAfter}; the machine is
shared, so absolute times carry some noise). Ratios are value / budget: below 1.00 is within budget.

| measure | value | budget | ratio |
|---|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

Binary size: ${binaryMiB.toFixed(1)} MiB (\`dist/autobootstrap\`). Whole run: ${fmtS(Date.now() - started)}.

### How it is measured

\`\`\`sh
make bench          # = make build; nft, ip and unshare checked (installed as root if missing); bun bench/run.ts
BENCH_QUICK=1 make bench   # the /16 at default concurrency with SCAN_TIMEOUT=250ms instead of 2s (about 1 min instead of 9); writes build/bench/BENCHMARKS-quick.md, never this file
\`\`\`

\`bench/run.ts\` re-executes itself with \`unshare -n\` (a new, empty network namespace; needs root), brings \`lo\` up
and loads this nftables table, which silently drops SYNs to every address of 127.1.0.0/16 on the apid port except the
three simulated nodes, so that a probe of a dead address lasts its whole SCAN_TIMEOUT as on a real network:

\`\`\`
${NFT_RULES.trim()}
\`\`\`

The simulated Talos nodes (test/sim, in the benchmark's process) listen on 127.1.0.1-3; the daemon is the compiled
binary, one process per node, configured only through its environment.

- **Scans**: one daemon (on 127.1.0.1) with \`QUORUM_NODES=4\` (never reached, so it keeps scanning),
  \`DISCOVERY=scan\`, \`SCAN_CIDR\` the /24 or /16. The time is the round's probing time as the daemon logs it
  (\`discoveryMs\`: connect probes to every address, TLS + gRPC inspection of those that answered). Every round found
  the 3 live control planes (found per round: /24 ${s24.foundControlPlanes.join(', ')}; /16 ${s16.foundControlPlanes.join(', ')}; /16 default ${s16d.foundControlPlanes.join(', ')}).
  SYNs dropped by the rule: /24 ${s24.droppedSyns}, /16 (4096) ${s16.droppedSyns}, /16 (256) ${s16d.droppedSyns} (dead addresses are retried by the kernel while a probe waits).
  Peak RSS is \`VmHWM\` from \`/proc/<pid>/status\` of the daemon after the round.
- **Latency**: daemons on cp1 (oldest boot time, the leader) and cp2 with \`QUORUM_NODES=3\` and default timings
  (SCAN_TIMEOUT 2 s, SCAN_INTERVAL 30 s, PRE_BOOTSTRAP_DELAY 10 s); cp3 has never run (not a member, not listening).
  Once the leader logs \`quorum 2/3\`, cp3 comes up; measured is the time from then to the Bootstrap call the simulator
  records, minus PRE_BOOTSTRAP_DELAY. Members: ${lm.phase}. Scan: ${ls.phase}. Every source: as with members. Bootstrap calls: ${lm.bootstraps}, ${la.bootstraps} and ${ls.bootstraps}.

### Reading the numbers

- A /24 takes one wave: 254 addresses fit in 256 concurrent probes, so the round lasts one SCAN_TIMEOUT plus the
  inspection of the few that answered.
- A /16 with 4096 concurrent probes needs 16 waves (65,534 / 4,096): the floor is 16 × 2 s = ${fmtS(floor16)}. Addresses are
  produced lazily as slots free, so memory stays flat however large the prefix. A pending connect probe is a bare
  non-blocking socket polled with the others (src/discovery/connect-pool.ts): with one node:net socket per probe the
  same /16 peaked at 188 MiB (above budget), most of it objects churned per probe; now 4,096 pending probes add
  about 10 MiB to the daemon at rest.
- With members, a new control plane rings the runner at once: one round (a few TLS handshakes on named addresses),
  arming as soon as what is verified is enough — without waiting for the member list, or for a scan still waiting
  on dead addresses — then the settle delay, and the final check whose member list and probes run in the settle
  delay's last part, so that the call follows the delay at once.
- With the scan only, the worst case is a control plane appearing just after the scan passed its address: it is seen
  one SCAN_INTERVAL later (rounds start every SCAN_INTERVAL), as soon as its probe answers; arming does not wait for
  the rest of the scan. The worst case is about SCAN_INTERVAL plus one inspection.
${BENCH_END}`;
  writeBenchmarksSection(OUT, BENCH_BEGIN, BENCH_END, md);
  log(QUICK ? `wrote ${OUT} (a quick run never touches BENCHMARKS.md)` : `updated ${OUT}: review it with git diff BENCHMARKS.md, commit it or git checkout it`);
}

await main();
process.exit(0);
