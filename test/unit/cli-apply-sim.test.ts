// apply's real I/O against the simulator when the node applies the config but the reply is lost: the
// retry meets the node configured with this config's CA and reports it accepted, not refused. The retry
// waits, by construction, until the node is back with its config, so no timing decides the outcome.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { applyIo } from '../../src/cli/nodes/apply-io.ts';
import { applyNode } from '../../src/cli/rules/apply-node.ts';
import type { NodeTarget } from '../../src/cli/inputs/target.ts';
import { TalosSimulator } from '../sim/index.ts';

const SUBNET = '127.0.161';
let sim: TalosSimulator;

beforeAll(async () => {
  sim = await TalosSimulator.start({ nodes: [{ name: 'cp1', ip: `${SUBNET}.1`, type: 'controlplane', maintenance: true }], applyRebootMs: 50 });
});
afterAll(async () => {
  await sim.stop();
});

test('reply lost after the node applied its config: accepted (reply lost), seen out of maintenance, applied once', async () => {
  sim.loseReply('cp1', 'ApplyConfiguration', status.UNAVAILABLE, 1, 'connection error: desc = "transport is closing"');
  const node = sim.node('cp1');
  const target: NodeTarget = { name: 'cp1', address: `${SUBNET}.1`, file: 'cp1.yaml' };
  const lines: string[] = [];
  const io = applyIo({
    callDeadlineMs: 5_000,
    probeDeadlineMs: 2_000,
    pollMs: 50,
    waitTimeoutMs: 30_000,
    casFor: () => [{ pem: sim.osCaPem(), what: 'the OS CA in cp1.yaml' }],
    progress: (_t, text) => lines.push(text),
  });
  const result = await applyNode(target, Buffer.from(node.machineConfig), { initialMs: 100, factor: 2, maxMs: 1_000, retries: 3 }, {
    ...io,
    // Instead of a timed delay: the retry comes once the node rebooted into the config it was given.
    sleep: () => sim.waitUntil(() => node.isUp && !node.maintenance, 10_000, 'cp1 back with its config'),
  });
  expect(result.ok).toBe(true);
  expect(result.replyLost).toBe(true);
  expect(result.attempts.map((a) => [a.attempt, a.ok, a.code, a.kind])).toEqual([
    [1, false, 'UNAVAILABLE', 'transient'],
    [2, false, 'UNAVAILABLE', 'transient'],
  ]);
  expect(result.reason).toBeUndefined();
  expect(result.leftMaintenance).toBe('left maintenance (its apid certificate chains to the OS CA in cp1.yaml)');
  expect(lines).toContain('config accepted (reply lost); waiting for the node to leave maintenance');
  expect(node.appliedConfigs).toHaveLength(1);
  expect(sim.calls().filter((c) => c.method.endsWith('/ApplyConfiguration')).map((c) => c.codeName)).toEqual(['UNAVAILABLE']);
});
