// make soak: one daemon that never reaches quorum, for SOAK_ROUNDS (default 10,000) discovery rounds at a
// short interval, with a client-certificate lifetime short enough to be renewed every few seconds.
// Measured from outside (/proc/PID: RSS, open fds, sockets) and from inside (live JS timers, through
// accounting-main.ts). Asserts after warm-up: RSS growth within SOAK_RSS_SLACK_MIB (4 MiB), no fd or socket
// growth, no timer growth, every renewal logged once. Writes its section of BENCHMARKS.md.
// Runs itself inside a private network namespace (unshare -n); needs root.
import { spawnSync } from 'bun';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DaemonProcess } from '../../test/e2e/daemon-process.ts';
import { writeBenchmarksSection } from '../benchmarks-file.ts';
import { reexecInNetns } from '../netns.ts';
import { TalosSimulator } from '../../test/sim/index.ts';

reexecInNetns('AB_SOAK_IN_NETNS', 'make soak');

const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 10_000);
const INTERVAL = process.env.SOAK_INTERVAL ?? '60ms';
const TIMEOUT = process.env.SOAK_TIMEOUT ?? '50ms';
const TTL = process.env.SOAK_CERT_TTL ?? '3m';
const RSS_SLACK_MIB = Number(process.env.SOAK_RSS_SLACK_MIB ?? 4);
const WARMUP_FRACTION = 0.2;
const SUBNET = '127.0.140';
const OUT = join(import.meta.dir, '../../BENCHMARKS.md');
const BEGIN = '<!-- soak:begin (make soak) -->';
const END = '<!-- soak:end -->';

const work = mkdtempSync(join(tmpdir(), 'ab-soak-'));
const binary = join(work, 'autobootstrap-accounting');
const build = spawnSync([process.execPath, 'build', '--compile', '--minify-syntax', join(import.meta.dir, 'accounting-main.ts'), '--outfile', binary], { stdout: 'pipe', stderr: 'pipe' });
if (build.exitCode !== 0) throw new Error(`build failed: ${build.stderr.toString()}`);

// cp1 runs the daemon and answers on its own apid (the daemon waits for it before its first round: reached at
// TALOS_AUTO_BOOTSTRAP_LOCAL_APID); cp2 answers and is verified over mTLS every round; cp3 is down: quorum 3
// is never reached. Cluster discovery is off in their configs (the daemon finds its peers by scan and static
// list), so cp1's EtcdMemberList answers at once with "no controlplane endpoints discovered yet"; with it on,
// the member list answers only at its deadline (at least 1 s) and every round would last that long.
const sim = await TalosSimulator.start({
  hostRootDir: join(work, 'nodes'),
  clusters: { default: { discovery: false } },
  nodes: [
    { name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane' },
    { name: 'cp2', ip: `${SUBNET}.2`, type: 'controlplane' },
    { name: 'cp3', ip: `${SUBNET}.3`, type: 'controlplane', up: false },
  ],
});

interface Sample {
  round: number;
  rssKiB: number;
  fds: number;
  sockets: number;
  liveTimers: number;
  heapUsed: number;
}

function procSample(pid: number): { rssKiB: number; fds: number; sockets: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
  const fds = readdirSync(`/proc/${pid}/fd`);
  let sockets = 0;
  for (const fd of fds) {
    try {
      if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) sockets++;
    } catch {
      // closed meanwhile
    }
  }
  return { rssKiB, fds: fds.length, sockets };
}

const TCP_STATES: Record<string, string> = { '01': 'ESTABLISHED', '02': 'SYN_SENT', '03': 'SYN_RECV', '04': 'FIN_WAIT1', '05': 'FIN_WAIT2', '06': 'TIME_WAIT', '07': 'CLOSE', '08': 'CLOSE_WAIT', '09': 'LAST_ACK', '0A': 'LISTEN', '0B': 'CLOSING' };
const hexAddr = (h: string) => {
  const [ip, port] = h.split(':') as [string, string];
  const n = Number.parseInt(ip, 16);
  return `${n & 255}.${(n >>> 8) & 255}.${(n >>> 16) & 255}.${n >>> 24}:${Number.parseInt(port, 16)}`;
};
/** The daemon's open sockets, counted by kind, peer and TCP state (from /proc/PID/net/tcp by inode). */
function describeSockets(pid: number): string {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const counts = new Map<string, number>();
  for (const line of readFileSync(`/proc/${pid}/net/tcp`, 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !inodes.has(f[9]!)) continue;
    inodes.delete(f[9]!);
    const key = `tcp to ${hexAddr(f[2]!)} ${TCP_STATES[f[3]!] ?? f[3]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  if (inodes.size > 0) counts.set('not TCP (unix, pipes of the runtime)', inodes.size);
  return [...counts].map(([k, n]) => `${n} ${k}`).join('; ');
}

const d = new DaemonProcess(
  'cp1',
  {
    LOG_LEVEL: 'debug',
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3',
    TALOS_AUTO_BOOTSTRAP_HOST_ROOT: sim.hostRoot('cp1') as string,
    TALOS_AUTO_BOOTSTRAP_NODE_IP: `${SUBNET}.1`,
    TALOS_AUTO_BOOTSTRAP_LOCAL_APID: `${SUBNET}.1`,
    TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: `${SUBNET}.0/29`,
    TALOS_AUTO_BOOTSTRAP_PEERS: `${SUBNET}.2,${SUBNET}.3`,
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'scan,static',
    TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: INTERVAL,
    TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: TIMEOUT,
    TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL: TTL,
    AB_SOAK_STATS_MS: '1000',
  },
  [binary, 'run'],
);

let rounds = 0;
let lastStats = { liveTimers: 0, heapUsed: 0 };
const samples: Sample[] = [];
d.onLine((l) => {
  if (l.event === 'round-start') rounds++;
});
const t0 = performance.now();
const sampler = setInterval(() => {
  for (const line of d.stderr.splice(0)) {
    try {
      const s = JSON.parse(line) as { soak?: string; liveTimers: number; heapUsed: number };
      if (s.soak === 'stats') lastStats = s;
    } catch {
      console.error(`daemon stderr: ${line}`);
    }
  }
  try {
    samples.push({ round: rounds, ...procSample(d.pid), ...lastStats });
  } catch {
    // exited
  }
}, 1_000);

while (rounds < ROUNDS) {
  const code = await Promise.race([d.exited, Bun.sleep(1_000).then(() => undefined)]);
  if (code !== undefined) throw new Error(`the daemon exited (${code}) after ${rounds} rounds:\n${d.tail(30)}`);
}
const seconds = (performance.now() - t0) / 1000;
clearInterval(sampler);
const final = { round: rounds, ...procSample(d.pid), ...lastStats };
const socketsAtEnd = describeSockets(d.pid);
d.kill('SIGTERM');
const exitCode = await d.exitWithin(10_000);
await d.drained;
await sim.stop();

// Renewals: one line per mint; a renewal is logged once (never two lines for one certificate).
const mints = d.events('client-certificate');
const perRole = new Map<string, string[]>();
for (const m of mints) perRole.set(String(m.role), [...(perRole.get(String(m.role)) ?? []), String(m.notAfter)]);
const renewals = mints.filter((m) => m.renewed === true).length;
const duplicates = [...perRole.values()].some((list) => new Set(list).size !== list.length);
// Expected renewals: the lifetime with its 5-minute backdate is renewed once a third remains.
const ttlMs = (Number(/^(\d+)m$/.exec(TTL)?.[1] ?? 3) * 60_000);
const renewEverySec = (ttlMs - (ttlMs + 300_000) / 3) / 1000;
const bootstrapCalls = sim.bootstrapCalls().length;

// Within a round the numbers swing (probes in flight, garbage not yet collected), so windows are compared:
// the window right after warm-up against the last one. RSS: their medians; fds, sockets, timers: their maxima.
const windowOf = (from: number, to: number) => samples.filter((s) => s.round >= ROUNDS * from && s.round < ROUNDS * to);
const early = windowOf(WARMUP_FRACTION, WARMUP_FRACTION + 0.1);
const late = windowOf(0.9, Infinity);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
const max = (xs: number[]) => Math.max(...xs);
const pick = (w: Sample[], k: keyof Sample) => w.map((s) => s[k]);
const warm = { round: early[0]?.round ?? 0, rssKiB: median(pick(early, 'rssKiB')) };
const rssGrowthMiB = (median(pick(late, 'rssKiB')) - warm.rssKiB) / 1024;
const growth = (k: keyof Sample) => ({ early: max(pick(early, k)), late: max(pick(late, k)) });
const fd = growth('fds');
const sock = growth('sockets');
const timers = growth('liveTimers');
const fdGrowth = fd.late - fd.early;
const socketGrowth = sock.late - sock.early;
const timerGrowth = timers.late - timers.early;
const maxOf = (k: keyof Sample) => max(pick(samples, k));
const checks: [string, boolean, string][] = [
  ['rounds', rounds >= ROUNDS, `${rounds} rounds in ${seconds.toFixed(0)} s (${(rounds / seconds).toFixed(1)}/s)`],
  ['RSS growth after warm-up', rssGrowthMiB <= RSS_SLACK_MIB, `${rssGrowthMiB.toFixed(1)} MiB: median ${(warm.rssKiB / 1024).toFixed(1)} MiB just after warm-up (round ${warm.round}), ${(median(pick(late, 'rssKiB')) / 1024).toFixed(1)} MiB over the last 10%; peak ${(maxOf('rssKiB') / 1024).toFixed(1)} MiB; budget ${RSS_SLACK_MIB} MiB`],
  ['open fds', fdGrowth <= 0, `at most ${fd.early} just after warm-up, at most ${fd.late} over the last 10% (growth ${fdGrowth})`],
  ['sockets', socketGrowth <= 0, `at most ${sock.early} just after warm-up, at most ${sock.late} over the last 10% (growth ${socketGrowth}); at the end: ${socketsAtEnd}`],
  ['live JS timers', timerGrowth <= 0, `at most ${timers.early} just after warm-up, at most ${timers.late} over the last 10% (growth ${timerGrowth})`],
  ['renewals', renewals >= Math.floor(seconds / renewEverySec) - 2 * perRole.size && !duplicates, `${renewals} renewals logged (${[...perRole].map(([r, l]) => `${r}: ${l.length - 1}`).join(', ')}), one line each; expected about ${Math.floor(seconds / renewEverySec)} per role (every ${renewEverySec.toFixed(0)} s)`],
  ['no Bootstrap', bootstrapCalls === 0, `${bootstrapCalls} Bootstrap calls`],
  ['stops on SIGTERM', exitCode === 0, `exit ${exitCode}`],
];

const table = ['| check | result | |', '| --- | --- | --- |', ...checks.map(([name, ok, text]) => `| ${name} | ${ok ? 'pass' : '**FAIL**'} | ${text} |`)].join('\n');
const curve = samples
  .filter((_, i) => i % Math.max(1, Math.floor(samples.length / 12)) === 0)
  .concat([final])
  .map((s) => `| ${s.round} | ${(s.rssKiB / 1024).toFixed(1)} | ${s.fds} | ${s.sockets} | ${s.liveTimers} | ${(s.heapUsed / 2 ** 20).toFixed(1)} |`)
  .join('\n');
const section = `${BEGIN}
## Soak: a daemon that never reaches quorum

\`make soak\` (bench/soak/soak.ts; \`SOAK_ROUNDS\`, \`SOAK_INTERVAL\`, \`SOAK_CERT_TTL\` override): one compiled daemon
(with timer accounting, bench/soak/accounting-main.ts) on a simulated control plane whose own apid answers,
one peer verified over mTLS every round and one peer down, quorum 3, cluster discovery off (so the member
list answers at once instead of at its 1 s deadline, which would pace every round): ${ROUNDS} rounds at
SCAN_INTERVAL=${INTERVAL}, SCAN_TIMEOUT=${TIMEOUT}, TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL=${TTL}. Warm-up: the first
${WARMUP_FRACTION * 100}% of the rounds. Measured ${new Date().toISOString().slice(0, 10)} on ${spawnSync(['nproc']).stdout.toString().trim()} CPUs shared with other work.

${table}

| round | RSS MiB | fds | sockets | live timers | JS heap MiB |
| --- | --- | --- | --- | --- | --- |
${curve}
${END}`;

if (!process.env.SOAK_NO_WRITE) writeBenchmarksSection(OUT, BEGIN, END, section);
console.log(section);
rmSync(work, { recursive: true, force: true });
process.exit(checks.every(([, ok]) => ok) ? 0 : 1);
