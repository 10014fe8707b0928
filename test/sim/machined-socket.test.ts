// The simulated machined socket, and the daemon's socket source against it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machinedSocket } from '../../src/credentials/machined-socket.ts';
import type { SourceContext } from '../../src/credentials/source.ts';
import { hostPaths } from '../../src/host/paths.ts';
import { controlPlaneCA } from '../../src/pki/machine-ca.ts';
import { cosiStateClient } from '../../src/talos/proto.ts';
import { TalosSimulator } from './index.ts';

let sim: TalosSimulator;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ab-sock-'));
  sim = await TalosSimulator.start({
    nodes: [
      { name: 'cp1', ip: '127.0.100.1', type: 'controlplane' },
      { name: 'w1', ip: '127.0.100.21', type: 'worker' },
    ],
    hostRootDir: dir,
    machinedSockets: true,
  });
});

afterAll(async () => {
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const OS_ROOT = { namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' };

function rawGet(node: string, roles: string[]): Promise<{ code: number; details: string; yaml?: string }> {
  const State = cosiStateClient();
  const client = new State(`unix://${sim.machinedSocket(node).path}`, grpc.credentials.createInsecure());
  const meta = new grpc.Metadata();
  for (const r of roles) meta.add('talos-role', r);
  return new Promise((resolve) => {
    (client as unknown as { Get: Function }).Get(OS_ROOT, meta, { deadline: Date.now() + 5_000 }, (err: grpc.ServiceError | null, reply: { resource?: { spec?: { yaml_spec?: string } } }) => {
      client.close();
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: 0, details: '', yaml: reply.resource?.spec?.yaml_spec });
    });
  });
}

function ctx(node: string): SourceContext {
  return {
    paths: hostPaths(join(dir, node)),
    sys: { mount: () => 1, umount2: () => 1 },
    sleep: async () => {},
    signal: new AbortController().signal,
    random: () => 0.5,
    mountRetryBudgetMs: 0,
    socketDeadlineMs: 5_000,
    note: () => {},
  };
}

describe('simulated machined socket', () => {
  test('a call without talos-role metadata is PermissionDenied "not authorized"', async () => {
    const r = await rawGet('cp1', []);
    expect(r.code).toBe(status.PERMISSION_DENIED);
    expect(r.details).toBe('not authorized');
  });

  test('os:reader may call Get but not read the sensitive OSRootSecrets', async () => {
    const r = await rawGet('cp1', ['os:reader']);
    expect(r.code).toBe(status.PERMISSION_DENIED);
    expect(r.details).toBe('not authorized');
  });

  test('os:admin reads issuingCA (crt and key, base64 of PEM)', async () => {
    const r = await rawGet('cp1', ['os:admin']);
    expect(r.code).toBe(0);
    expect(r.yaml).toContain('issuingCA:');
    expect(r.yaml).toContain(`crt: ${Buffer.from(sim.osCaPem()).toString('base64')}`);
  });

  test('a worker has no issuingCA (Talos drops it when the config has no CA key)', async () => {
    const r = await rawGet('w1', ['os:admin']);
    expect(r.code).toBe(0);
    expect(r.yaml).toContain('issuingCA: null');
  });
});

describe('the daemon socket source', () => {
  test('reads the control plane CA with talos-role os:admin, and the machine type', async () => {
    const before = sim.machinedSocket('cp1').calls.length;
    const out = await machinedSocket(ctx('cp1'));
    if (!out.ok) throw new Error(out.reason);
    expect(out.facts.machineType).toBe('controlplane');
    expect(out.from).toContain('OSRootSecrets.secrets.talos.dev/os over ');
    const ca = controlPlaneCA(out.facts);
    expect(ca.certPem.trim()).toBe(sim.osCaPem().trim());
    const calls = sim.machinedSocket('cp1').calls.slice(before);
    expect(calls.map((c) => [c.code, c.roles])).toEqual([
      [0, ['os:admin']],
      [0, ['os:admin']],
    ]);
  });

  test('on a worker: machine type worker and no key', async () => {
    const out = await machinedSocket(ctx('w1'));
    if (!out.ok) throw new Error(out.reason);
    expect(out.facts.machineType).toBe('worker');
    expect(out.facts.caKeyPem).toBeUndefined();
  });

  test('no socket: one sentence saying so', async () => {
    const out = await machinedSocket({ ...ctx('cp1'), paths: hostPaths(join(dir, 'nowhere')) });
    expect(out).toEqual({ ok: false, reason: expect.stringMatching(/machine\.sock does not exist/) });
  });
});

describe('the daemon socket source when machined does not answer', () => {
  test('a socket file nobody listens on: UNAVAILABLE, said in one line', async () => {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const stale = join(dir, 'stale');
    mkdirSync(join(stale, 'system/run/machined'), { recursive: true });
    writeFileSync(join(stale, 'system/run/machined/machine.sock'), '');
    const out = await machinedSocket({ ...ctx('cp1'), paths: hostPaths(stale), socketDeadlineMs: 2_000 });
    if (out.ok) throw new Error('expected failure');
    expect(out.reason).toMatch(/machine\.sock: machined answered (UNAVAILABLE|DEADLINE_EXCEEDED)/);
  });
});
