// Can ip-cidr (4.0.2) walk a scan prefix itself? A scan needs the hosts of a /16 one at a time, in flat
// memory, fast enough not to matter beside the probes. This measures, in separate child processes so one
// heap never colours another: ip-cidr's toArray over the whole /16, its loop(), its chunked toArray
// (from/limit, 256 at a time: the lazy pattern its API allows), and src/util/ipv4.ts's generator.
//   bun bench/ip-cidr.ts          (no network; about 10 s; prints a Markdown table for BENCHMARKS.md)
import IPCIDR from 'ip-cidr';
import { hostsOf, parsePrefix } from '../src/util/ipv4.ts';

const PREFIX = '10.20.0.0/16';
const HOSTS = 65_534;
type Way = 'toArray' | 'loop' | 'chunked' | 'ipv4-generator';
const WAYS: Way[] = ['toArray', 'loop', 'chunked', 'ipv4-generator'];

/** Every host address of the prefix (network and broadcast skipped), handed to `visit` one at a time. */
async function walk(way: Way, visit: (ip: string) => void): Promise<void> {
  const cidr = new IPCIDR(PREFIX);
  switch (way) {
    case 'toArray':
      for (const ip of cidr.toArray({ from: 1, limit: HOSTS })) visit(ip);
      return;
    case 'loop':
      await cidr.loop(async (ip: string) => visit(ip), { from: 1, limit: HOSTS });
      return;
    case 'chunked':
      for (let from = 1; from <= HOSTS; from += 256) for (const ip of cidr.toArray({ from, limit: Math.min(256, HOSTS - from + 1) })) visit(ip);
      return;
    case 'ipv4-generator':
      for (const ip of hostsOf(parsePrefix(PREFIX)!)) visit(ip);
      return;
  }
}

async function measure(way: Way): Promise<void> {
  Bun.gc(true);
  const heapBefore = process.memoryUsage().heapUsed;
  let peak = heapBefore;
  let count = 0;
  let last = '';
  const t = performance.now();
  await walk(way, (ip) => {
    count++;
    last = ip;
    if ((count & 1023) === 0) peak = Math.max(peak, process.memoryUsage().heapUsed);
  });
  const ms = performance.now() - t;
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  process.stdout.write(JSON.stringify({ way, count, last, ms, peakMiB: (peak - heapBefore) / 2 ** 20 }) + '\n');
}

if (process.argv[2]) {
  await measure(process.argv[2] as Way);
} else {
  const rows: string[] = [];
  for (const way of WAYS) {
    const r = Bun.spawnSync([process.execPath, import.meta.path, way], { stdout: 'pipe', stderr: 'inherit' });
    const m = JSON.parse(r.stdout.toString()) as { count: number; last: string; ms: number; peakMiB: number };
    if (m.count !== HOSTS || m.last !== '10.20.255.254') throw new Error(`${way}: ${m.count} hosts, last ${m.last}`);
    rows.push(`| ${way} | ${m.ms.toFixed(0)} ms | ${(m.ms * 1000 / HOSTS).toFixed(2)} µs | ${m.peakMiB.toFixed(1)} MiB |`);
  }
  console.log(`Walking the ${HOSTS} hosts of a /16 (${PREFIX}), Bun ${Bun.version}:\n`);
  console.log('| way | time | per address | peak heap growth during the walk (sampled every 1,024 addresses) |\n|---|---:|---:|---:|');
  console.log(rows.join('\n'));
}
