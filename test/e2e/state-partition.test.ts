// The compiled daemon reading its machine CA from a real XFS filesystem on a loop device — plain STATE,
// and an "opened LUKS2 mapping" reached through a fixture sys/block tree — then bootstrapping a simulated
// cluster; and what happens when STATE stays busy. Needs root (loop devices, mount(2)).
import { afterAll, afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BlockDevices, mountsOf, mountsUnder, rootTestsMode } from './block-devices.ts';
import { startCluster, type Harness } from './cluster-harness.ts';
import type { DaemonProcess } from './daemon-process.ts';

const mode = rootTestsMode();
let devices: BlockDevices | undefined;
let h: Harness | undefined;

afterEach(async () => {
  await h?.close();
  h = undefined;
});
afterAll(() => {
  const problems = devices?.cleanup() ?? [];
  expect(problems).toEqual([]);
});

function blk(): BlockDevices {
  devices ??= new BlockDevices(tmpdir());
  return devices;
}

/** One control plane on 127.0.<subnet>.1 whose host root has no system/state/config.yaml (Talos v1.12+). */
async function singleNode(subnet: string): Promise<{ root: string; config: string }> {
  h = await startCluster({ subnet, quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
  const root = h.sim.hostRoot('cp1') as string;
  rmSync(join(root, 'system/state/config.yaml'));
  return { root, config: h.sim.node('cp1').machineConfig };
}

function link(root: string, rel: string, target: string): void {
  mkdirSync(join(root, rel, '..'), { recursive: true });
  symlinkSync(target, join(root, rel));
}

/** Nothing mounted under the host root, nothing left in run/autobootstrap, the device mounted nowhere. */
function expectNoTrace(root: string, dev: string): void {
  expect(mountsUnder(root)).toEqual([]);
  expect(mountsOf(dev)).toEqual([]);
  const run = join(root, 'run/autobootstrap');
  expect(existsSync(run) ? readdirSync(run) : []).toEqual([]);
}

async function expectBootstrapped(d: DaemonProcess): Promise<void> {
  expect(await d.exitWithin(40_000)).toBe(0);
  expect(h?.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp1']);
  expect(h?.sim.etcdClusters()).toHaveLength(1);
  expectNoSecrets(d);
}

/** Not a fragment of the CA key (as base64 of PEM, or the PEM's own base64) or of the other config secrets in any output. */
function expectNoSecrets(d: DaemonProcess): void {
  const id = h!.sim.identity();
  const keyPemBody = id.osCa.talosKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const secrets = [Buffer.from(id.osCa.talosKeyPem).toString('base64').slice(10, 50), keyPemBody.slice(5, 35), id.machineToken, id.clusterSecret, id.clusterToken];
  const output = [...d.lines.map((l) => JSON.stringify(l)), ...d.stderr].join('\n');
  for (const s of secrets) expect(output).not.toContain(s);
}

// Always runs: under CI (which runs as root) the root-only tests below must never be skipped.
test('STATE on a real device: not skipped under CI', () => {
  if (mode === 'fail') throw new Error('CI is set but the tests do not run as root; loop devices and mount(2) need root');
  expect(mode === 'run' || !process.env.CI).toBe(true);
});

describe.if(mode === 'run')('STATE on a real device', () => {
  test('plain XFS STATE: mounted read-only, CA read, unmounted, no trace; the cluster bootstraps', async () => {
    const { root, config } = await singleNode('127.0.102');
    const dev = blk().xfs('plain', { 'config.yaml': config });
    link(root, 'dev/disk/by-partlabel/STATE', dev);
    const d = h!.daemon('cp1');
    await expectBootstrapped(d);
    const used = d.events('ca-source-used');
    expect(used).toHaveLength(1);
    expect(used[0]?.source).toBe('state-partition');
    expect(used[0]?.from).toBe(`config.yaml on ${dev}`);
    expect(d.events('ca-source-skipped').map((l) => [l.source, l.reason])).toEqual([
      ['state-file', `${join(root, 'system/state/config.yaml')} does not exist (STATE is not kept mounted on Talos v1.12+)`],
    ]);
    expect(d.events('state-mount-retry')).toEqual([]);
    expectNoTrace(root, dev);
    // The daemon made run/autobootstrap for its mount point and removed the mount point itself.
    expect(existsSync(join(root, 'run/autobootstrap'))).toBe(true);
  }, 90_000);

  test.each([
    ['luks2-STATE (Talos v1.12+)', (part: string) => (void part, 'luks2-STATE')],
    ['<partition>-encrypted (Talos v1.8–v1.11)', (part: string) => `${part}-encrypted`],
  ])('encrypted STATE through its opened mapping, %s, found via sys/block/dm-N', async (_scheme, nameFor) => {
    const { root, config } = await singleNode('127.0.103');
    const part = blk().luks('luks-part');
    const mapped = blk().xfs('luks-mapped', { 'config.yaml': config });
    const partName = basename(part);
    const name = nameFor(partName);
    link(root, 'dev/disk/by-partlabel/STATE', part);
    // dm-4 is an unrelated mapping; dm-9 sits on STATE.
    for (const [dm, dmName, slave] of [['dm-4', 'luks2-EPHEMERAL', 'sdz9'], ['dm-9', name, partName]] as const) {
      mkdirSync(join(root, 'sys/block', dm, 'dm'), { recursive: true });
      writeFileSync(join(root, 'sys/block', dm, 'dm/name'), `${dmName}\n`);
      link(root, `sys/block/${dm}/slaves/${slave}`, `../../../devices/virtual/block/${slave}`);
    }
    link(root, `dev/mapper/${name}`, mapped);
    const d = h!.daemon('cp1');
    await expectBootstrapped(d);
    expect(d.events('ca-source-skipped').map((l) => l.source)).toEqual(['state-file', 'state-partition']);
    expect(d.events('ca-source-skipped')[1]?.reason).toBe(`STATE (${part}) is LUKS2-encrypted; only its opened mapping can be read`);
    const used = d.events('ca-source-used')[0];
    expect(used?.source).toBe('luks-mapping');
    expect(used?.from).toBe(`config.yaml on ${join(root, 'dev/mapper', name)} (dm-9, the opened LUKS2 mapping of ${partName})`);
    expectNoTrace(root, mapped);
  }, 90_000);

  test('STATE busy (held read-write, as machined does) for two attempts, then free: retried, logged, read', async () => {
    const { root, config } = await singleNode('127.0.104');
    const dev = blk().xfs('busy', { 'config.yaml': config });
    link(root, 'dev/disk/by-partlabel/STATE', dev);
    const held = blk().hold(dev);
    const d = h!.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT: '30s' });
    let retries = 0;
    await new Promise<void>((resolve) =>
      d.onLine((l) => {
        if (l.event === 'state-mount-retry' && ++retries === 2) {
          blk().release(held);
          resolve();
        }
      }),
    );
    await expectBootstrapped(d);
    const lines = d.events('state-mount-retry');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) {
      expect(l.errno).toBe('EBUSY');
      expect(l.msg).toMatch(/failed: EBUSY: busy \(machined may have it mounted right now\); transient, retrying in \d+ ms/);
    }
    expect(d.events('ca-source-used')[0]?.source).toBe('state-partition');
    expectNoTrace(root, dev);
  }, 90_000);

  test('STATE busy for ever: every source reported with its reason, exit 1, nothing left mounted', async () => {
    const { root, config } = await singleNode('127.0.105');
    const dev = blk().xfs('stuck', { 'config.yaml': config });
    link(root, 'dev/disk/by-partlabel/STATE', dev);
    const held = blk().hold(dev);
    const d = h!.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT: '2s' });
    expect(await d.exitWithin(40_000)).toBe(1);
    const failed = d.events('ca-source-failed');
    expect(failed.map((l) => l.source)).toEqual(['state-file', 'state-partition', 'luks-mapping', 'machined-socket']);
    for (const l of failed) expect(l.level).toBe('error');
    expect(failed[1]?.reason).toMatch(/EBUSY.*still failing after \d+ attempts over 2000 ms/);
    expect(failed[2]?.reason).toBe(`STATE (${dev}) is not encrypted (no LUKS header), so there is no mapping to read`);
    expect(failed[3]?.reason).toMatch(/machine\.sock does not exist/);
    expect(d.events('state-mount-retry').length).toBeGreaterThanOrEqual(2);
    expect(h!.sim.calls()).toHaveLength(0);
    expectNoSecrets(d);
    // Only the test's own hold is mounted; nothing under the host root.
    expect(mountsOf(dev).map((l) => l.split(' ')[4])).toEqual([held]);
    expect(mountsUnder(root)).toEqual([]);
    expect(readdirSync(join(root, 'run/autobootstrap'))).toEqual([]);
    blk().release(held);
  }, 90_000);
});

describe.if(mode === 'run')('a cluster whose nodes read their CA in three different ways', () => {
  test('plain STATE, an opened LUKS2 mapping, machined socket: quorum 3, exactly one Bootstrap', async () => {
    h = await startCluster({
      subnet: '127.0.107',
      quorum: 3,
      nodes: [1, 2, 3].map((i) => ({ name: `cp${i}`, host: i, type: 'controlplane' as const, bootTime: 1_700_000_000 + i })),
      sim: { machinedSockets: true },
    });
    const rootOf = (n: string) => h!.sim.hostRoot(n) as string;
    for (const n of ['cp1', 'cp2', 'cp3']) rmSync(join(rootOf(n), 'system/state/config.yaml'));
    const plain = blk().xfs('mixed-plain', { 'config.yaml': h.sim.node('cp1').machineConfig });
    link(rootOf('cp1'), 'dev/disk/by-partlabel/STATE', plain);
    const part = blk().luks('mixed-luks');
    const mapped = blk().xfs('mixed-mapped', { 'config.yaml': h.sim.node('cp2').machineConfig });
    link(rootOf('cp2'), 'dev/disk/by-partlabel/STATE', part);
    mkdirSync(join(rootOf('cp2'), 'sys/block/dm-0/dm'), { recursive: true });
    writeFileSync(join(rootOf('cp2'), 'sys/block/dm-0/dm/name'), 'luks2-STATE\n');
    link(rootOf('cp2'), `sys/block/dm-0/slaves/${basename(part)}`, `../../../devices/virtual/block/${basename(part)}`);
    link(rootOf('cp2'), 'dev/mapper/luks2-STATE', mapped);
    const daemons = ['cp1', 'cp2', 'cp3'].map((n) => h!.daemon(n));
    expect(await Promise.all(daemons.map((d) => d.exitWithin(60_000)))).toEqual([0, 0, 0]);
    expect(daemons.map((d) => d.events('ca-source-used')[0]?.source)).toEqual(['state-partition', 'luks-mapping', 'machined-socket']);
    expect(h.sim.successfulBootstraps()).toHaveLength(1);
    expect(h.sim.bootstrapCalls()).toHaveLength(1);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    for (const d of daemons) expectNoSecrets(d);
    expectNoTrace(rootOf('cp1'), plain);
    expectNoTrace(rootOf('cp2'), mapped);
  }, 120_000);
});
