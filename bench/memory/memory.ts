// make bench-memory: what a node pays in memory for the daemon at rest, part by part. Compiles small
// programs with the same `bun build --compile` as the product and reads each one's RSS from /proc:
//   - an idle Bun program (the runtime's floor);
//   - the same program after importing each dependency alone (import cost);
//   - the daemon waiting for quorum on a /24 (one peer reachable, one down), at 5 s and 30 s;
//   - the same with 1, 5 and 10 peers answering over mTLS (cost per peer: TLS context, channel, buffers).
// Runs itself in a private network namespace (unshare -n); writes its section of BENCHMARKS.md.
import { spawnSync } from 'bun';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BINARY, DaemonProcess } from '../../test/e2e/daemon-process.ts';
import { writeBenchmarksSection } from '../benchmarks-file.ts';
import { reexecInNetns } from '../netns.ts';
import { TalosSimulator, type NodeSpec } from '../../test/sim/index.ts';

reexecInNetns('AB_MEMORY_IN_NETNS', 'make bench-memory');

const REPO = join(import.meta.dir, '../..');
const OUT = join(REPO, 'BENCHMARKS.md');
const BEGIN = '<!-- memory:begin (make bench-memory) -->';
const END = '<!-- memory:end -->';
const work = mkdtempSync(join(tmpdir(), 'ab-mem-'));
const SETTLE_MS = Number(process.env.MEM_SETTLE_MS ?? 3_000);

const rssMiB = (pid: number): number => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

/** Compiles `source` as the product is compiled, runs it idle, and returns its RSS after SETTLE_MS. */
async function idleRss(name: string, source: string): Promise<number> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const entry = join(REPO, `.tmp-mem-${name}.ts`);
  writeFileSync(entry, `${source}\nsetInterval(() => {}, 1 << 30);\n`);
  try {
    const out = join(dir, 'bin');
    const b = spawnSync([process.execPath, 'build', '--compile', '--minify-syntax', entry, '--outfile', out], { stdout: 'pipe', stderr: 'pipe' });
    if (b.exitCode !== 0) throw new Error(`${name}: ${b.stderr.toString()}`);
    const p = Bun.spawn([out], { stdout: 'ignore', stderr: 'inherit' });
    await Bun.sleep(SETTLE_MS);
    const rss = rssMiB(p.pid);
    p.kill('SIGKILL');
    await p.exited;
    return rss;
  } finally {
    rmSync(entry, { force: true });
  }
}

const imports: [string, string][] = [
  ['(nothing)', ''],
  ['@grpc/grpc-js', `import * as g from '@grpc/grpc-js'; (globalThis as any).k = g;`],
  ['protobufjs + long', `import p from 'protobufjs'; import L from 'long'; (globalThis as any).k = [p, L];`],
  ['src/talos/proto.ts (grpc-js, proto-loader, the embedded Talos protos)', `import * as p from './src/talos/proto.ts'; (globalThis as any).k = p;`],
  ['node-forge', `import f from 'node-forge'; (globalThis as any).k = f;`],
  ['pino', `import p from 'pino'; (globalThis as any).k = p;`],
  ['yaml', `import * as y from 'yaml'; (globalThis as any).k = y;`],
  ['envalid', `import * as e from 'envalid'; (globalThis as any).k = e;`],
  ['src/cli/operator.ts (every operator command)', `import * as o from './src/cli/operator.ts'; (globalThis as any).k = o;`],
  ['src/daemon.ts (the daemon, all its imports)', `import * as d from './src/daemon.ts'; (globalThis as any).k = d;`],
  ['src/main.ts imports (daemon + operator), not run', `import * as d from './src/daemon.ts'; import * as o from './src/cli/operator.ts'; (globalThis as any).k = [d, o];`],
];

// First use, after the imports: one mTLS handshake (the discovery probe), one gRPC call over mTLS, and one
// client certificate minted, each against a simulated node in this namespace.
const probeSim = await TalosSimulator.start({ nodes: [{ name: 'p1', ip: '127.0.142.1', type: 'controlplane' }] });
const cert = probeSim.clientCertificate({ roles: ['os:reader'], cn: 'bench' });
const idFile = join(work, 'identity.json');
writeFileSync(idFile, JSON.stringify({ caPem: probeSim.osCaPem(), certPem: cert.certPem, keyPem: cert.keyPem }));
const use = (body: string) => `import { readFileSync } from 'node:fs'; const id = JSON.parse(readFileSync(${JSON.stringify(idFile)}, 'utf8'));\n${body}`;
imports.push(
  ['src/daemon.ts + one mTLS handshake (probeTls)', use(`import * as d from './src/daemon.ts'; import { probeTls } from './src/discovery/tls-probe.ts'; (globalThis as any).k = [d, await probeTls('127.0.142.1', 50000, id, 2000)];`)],
  ['src/daemon.ts + one gRPC call over mTLS (SystemStat)', use(`import * as d from './src/daemon.ts'; import { mutualTlsCredentials } from './src/talos/channel.ts'; import { NodeClient } from './src/talos/node-client.ts'; const c = new NodeClient('127.0.142.1', 50000, mutualTlsCredentials('127.0.142.1', id), 2000); (globalThis as any).k = [d, await c.bootTime()]; c.close();`)],
  ['src/daemon.ts + ten gRPC calls on ten channels, closed', use(`import * as d from './src/daemon.ts'; import { mutualTlsCredentials } from './src/talos/channel.ts'; import { NodeClient } from './src/talos/node-client.ts'; for (let i = 0; i < 10; i++) { const c = new NodeClient('127.0.142.1', 50000, mutualTlsCredentials('127.0.142.1', id), 2000); await c.bootTime(); c.close(); } (globalThis as any).k = d;`)],
);

const importRows: string[] = [];
let floor = 0;
for (const [name, src] of process.env.MEM_DAEMON_ONLY ? [] : imports) {
  const rss = await idleRss(name.replace(/[^a-z0-9]+/gi, '-').slice(0, 30) || 'idle', src);
  if (name === '(nothing)') floor = rss;
  importRows.push(`| ${name} | ${rss.toFixed(1)} | ${name === '(nothing)' ? '' : `+${(rss - floor).toFixed(1)}`} |`);
  console.log(importRows.at(-1));
}

/** The real daemon on cp1 of a /24 with `peersUp` control planes answering and one down; RSS at 5 s and 30 s. */
async function daemonRss(peersUp: number, sampleAt: number[]): Promise<number[]> {
  const subnet = '127.0.141';
  const nodes: NodeSpec[] = [{ name: 'cp1', ip: `${subnet}.1`, type: 'controlplane' }];
  for (let i = 0; i < peersUp; i++) nodes.push({ name: `cp${i + 2}`, ip: `${subnet}.${i + 2}`, type: 'controlplane' });
  nodes.push({ name: 'down', ip: `${subnet}.200`, type: 'controlplane', up: false });
  const sim = await TalosSimulator.start({ nodes, hostRootDir: join(work, `nodes-${peersUp}`) });
  const d = new DaemonProcess('cp1', {
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: String(peersUp + 2),
    TALOS_AUTO_BOOTSTRAP_HOST_ROOT: sim.hostRoot('cp1') as string,
    TALOS_AUTO_BOOTSTRAP_NODE_IP: `${subnet}.1`,
    TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: `${subnet}.0/24`,
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'scan,static',
    TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '5s',
    TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '2s',
    ...(process.env.MEM_DAEMON_ENV ? JSON.parse(process.env.MEM_DAEMON_ENV) : {}),
  }, [process.env.MEM_BINARY ?? BINARY, 'run']);
  const out: number[] = [];
  const t0 = Date.now();
  for (const at of sampleAt) {
    await Bun.sleep(Math.max(0, at - (Date.now() - t0)));
    out.push(rssMiB(d.pid));
  }
  d.kill('SIGTERM');
  await d.exitWithin(10_000);
  await sim.stop();
  return out;
}

await probeSim.stop();
const daemonRows: string[] = [];
const AT = [5_000, 30_000];
for (const peers of [1, 5, 10]) {
  const [a, b] = await daemonRss(peers, AT);
  daemonRows.push(`| ${peers} | ${a!.toFixed(1)} | ${b!.toFixed(1)} |`);
  console.log(daemonRows.at(-1));
}

const section = `${BEGIN}
## Memory at rest

\`make bench-memory\` (bench/memory/memory.ts). Each program is compiled with \`bun build --compile --minify-syntax\` like
the product and left idle for ${SETTLE_MS / 1000} s; RSS from /proc/PID/status (MiB). Measured ${new Date().toISOString().slice(0, 10)}, Bun ${Bun.version}.

Import cost, one dependency at a time (over the idle runtime):

| imported | RSS MiB | over idle |
| --- | --- | --- |
${importRows.join('\n')}

The daemon (dist/autobootstrap${process.env.MEM_BINARY ? `, here ${process.env.MEM_BINARY}` : ''}) waiting for quorum on a /24 (SCAN_INTERVAL=5s, SCAN_TIMEOUT=2s), with
N peers answering over mTLS and one down:

| peers answering | RSS at 5 s | RSS at 30 s |
| --- | --- | --- |
${daemonRows.join('\n')}
${END}`;
if (!process.env.MEM_NO_WRITE) writeBenchmarksSection(OUT, BEGIN, END, section);
console.log(section);
rmSync(work, { recursive: true, force: true });
