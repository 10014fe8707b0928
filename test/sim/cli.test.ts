// The CLI as `make demo` drives it: first stdout line is the JSON description, then one line per event,
// and SIGTERM stops it cleanly.
import { afterEach, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimClient } from './client.ts';
import { parseDuration } from './cli.ts';

const SUBNET = '127.0.69';
const BUN = process.execPath;
let dir: string | undefined;
let proc: ReturnType<typeof Bun.spawn> | undefined;

afterEach(() => {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  proc = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Reads stdout line by line. */
function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return async () => {
    for (;;) {
      const nl = buffer.indexOf('\n');
      if (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended; partial: ${buffer}`);
      buffer += decoder.decode(value, { stream: true });
    }
  };
}

test('durations', () => {
  expect(parseDuration('2s')).toBe(2000);
  expect(parseDuration('250ms')).toBe(250);
  expect(parseDuration('1m')).toBe(60_000);
  expect(parseDuration('75')).toBe(75);
  expect(() => parseDuration('2 hours')).toThrow();
});

test('starts the nodes, prints the description and events, stops on SIGTERM', async () => {
  dir = mkdtempSync(join(tmpdir(), 'talos-sim-cli-'));
  proc = Bun.spawn(
    [BUN, join(import.meta.dir, 'cli.ts'), '--control-planes', '2', '--workers', '1', '--subnet', SUBNET, '--dir', dir, '--join-delay', '100ms'],
    { stdout: 'pipe', stderr: 'pipe' },
  );
  const next = lineReader(proc.stdout as ReadableStream<Uint8Array>);
  const description = JSON.parse(await next()) as {
    nodes: { name: string; ip: string; port: number; hostRoot: string; type: string; bootTime: number }[];
    clusters: { group: string; caCert: string; adminCert: string; adminKey: string }[];
  };
  expect(description.nodes.map((n) => [n.name, n.ip, n.type])).toEqual([
    ['cp1', `${SUBNET}.1`, 'controlplane'],
    ['cp2', `${SUBNET}.2`, 'controlplane'],
    ['w1', `${SUBNET}.3`, 'worker'],
  ]);
  const [cp1, cp2] = description.nodes;
  if (!cp1 || !cp2) throw new Error('nodes missing');
  expect(cp1.bootTime).toBeLessThan(cp2.bootTime);
  expect(readFileSync(join(cp1.hostRoot, 'host/proc/stat'), 'utf8')).toContain(`btime ${cp1.bootTime}`);
  expect(existsSync(join(cp1.hostRoot, 'system/secrets/etcd/ca.crt'))).toBe(true);

  const creds = description.clusters[0];
  if (!creds) throw new Error('no credentials');
  const client = new SimClient(cp1, {
    caPem: readFileSync(creds.caCert, 'utf8'),
    cert: { certPem: readFileSync(creds.adminCert, 'utf8'), keyPem: readFileSync(creds.adminKey, 'utf8') },
  });
  try {
    await client.call('Bootstrap');
  } finally {
    client.close();
  }
  const lines: string[] = [];
  while (!lines.some((l) => l.includes('cp2 joined etcd cluster'))) lines.push(await next());
  expect(lines.some((l) => /cp1 BOOTSTRAP from operator SUCCEEDED/.test(l))).toBe(true);
  expect(lines.some((l) => /cp1 etcd cluster \d+ formed/.test(l))).toBe(true);

  proc.kill('SIGTERM');
  expect(await proc.exited).toBe(0);
  const stderr = await new Response(proc.stderr as ReadableStream<Uint8Array>).text();
  expect(stderr).toContain('1 Bootstrap calls, 1 succeeded, 1 etcd clusters');
});
