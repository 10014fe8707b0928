// The amd64 extension binary runs from inside its own container root, with nothing of the host visible:
// `--version`, and a whole simulated cluster bootstrapped by daemons started that way, with the service
// spec's mounts. Needs root (chroot, mount); CI runs as root and never skips.
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, threeControlPlanes, type Harness } from '../e2e/cluster-harness.ts';
import { DaemonProcess, loopbackDaemonEnv } from '../e2e/daemon-process.ts';
import { containerRoot, requireBuilt } from './build-outputs.ts';
import { containerCommand, uncoveredFixturePaths } from './container-run.ts';

const isRoot = process.getuid?.() === 0;
// Outside CI a non-root developer cannot run these; in CI a skip would hide a broken runner, so never.
const skip = !isRoot && !process.env.CI;
const SUBNET = '127.0.130';

let work = '';
let ctr = '';
let h: Harness | undefined;

beforeAll(() => {
  if (skip) return;
  work = mkdtempSync(join(tmpdir(), 'ab-ext-chroot-'));
  // A copy, so nothing a run does can touch the build output; made read-only inside each run.
  ctr = join(work, 'container-root');
  cpSync(requireBuilt(containerRoot('amd64'), 'rootfs'), ctr, { recursive: true, verbatimSymlinks: true });
});

afterEach(async () => {
  await h?.close();
  h = undefined;
});

afterAll(() => {
  if (!work) return;
  // Every mount lived in a private namespace that ended with its process: none may be left here.
  const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
  expect(mountinfo.includes(work)).toBe(false);
  rmSync(work, { recursive: true, force: true });
});

/** Every file under dir, relative. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = rel ? `${rel}/${name}` : name;
    return statSync(join(dir, name)).isDirectory() ? files(join(dir, name), path) : [path];
  });
}

describe.skipIf(skip)('inside the container root (chroot)', () => {
  test('the root holds the binary, its loader and glibc, and nothing of the host', () => {
    expect(readdirSync(ctr).sort()).toEqual(['autobootstrap', 'dev', 'etc', 'host', 'lib', 'lib64', 'proc', 'run', 'sys', 'system', 'tmp', 'usr', 'var']);
    // No loader cache and no other library directory: the loader can only use what is shipped.
    expect(existsSync(join(ctr, 'etc/ld.so.cache'))).toBe(false);
    expect(readdirSync(join(ctr, 'usr'))).toEqual(['share']);
    expect(readdirSync(join(ctr, 'etc'))).toEqual([]);
  });

  test('--version', () => {
    const run = Bun.spawnSync(containerCommand({ containerRoot: ctr, scratch: work, argv: ['/autobootstrap', '--version'] }), { stdout: 'pipe', stderr: 'pipe' });
    expect(run.stderr.toString()).toBe('');
    expect(run.exitCode).toBe(0);
    expect(run.stdout.toString()).toMatch(/^autobootstrap \d+\.\d+\.\d+ \([^)]+\)\n$/);
  });

  test('three control planes and a worker, each daemon started in its container root: one Bootstrap, one cluster', async () => {
    const nodes = [...threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]), { name: 'w1', host: 21, type: 'worker' as const, bootTime: 1_700_000_050 }];
    h = await startCluster({ subnet: SUBNET, quorum: 3, nodes });
    const harness = h;
    for (const n of nodes) {
      const fixture = harness.sim.hostRoot(n.name) as string;
      // The spec's mounts cover every file the simulated node offers the daemon.
      expect(uncoveredFixturePaths(fixture, files(fixture))).toEqual([]);
      const scratch = mkdtempSync(join(work, `${n.name}-`));
      // No host root: on a node it is `/`, the spec mounts host paths at their own paths.
      // The agreement's state at the spec's mount, as on a node.
      const env = { ...loopbackDaemonEnv({ quorum: 3, nodeIp: harness.ip(n.name), subnet: SUBNET, peers: ['cp1', 'cp2', 'cp3'].map((c) => harness.ip(c)) }), TALOS_AUTO_BOOTSTRAP_STATE_DIR: '/var/lib/autobootstrap' };
      harness.daemons.push(new DaemonProcess(n.name, env, containerCommand({ containerRoot: ctr, fixture, scratch })));
    }
    const codes = await Promise.all(harness.daemons.map((d) => d.exitWithin(60_000)));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(harness.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp2']);
    expect(harness.sim.successfulBootstraps()).toHaveLength(1);
    expect(harness.sim.etcdClusters()).toHaveLength(1);
    expect(harness.sim.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);

    const [cp1, cp2, cp3, w1] = harness.daemons as [DaemonProcess, DaemonProcess, DaemonProcess, DaemonProcess];
    for (const d of [cp1, cp2, cp3, w1]) expect(d.stderr).toEqual([]);
    // The control planes recognised themselves through the mounted etcd PKI at its host path.
    for (const d of [cp1, cp2, cp3]) expect(d.events('control-plane')[0]?.why).toBe('/system/secrets/etcd/ca.crt exists');
    // The worker has the (empty) mount point too, as on Talos, and still knows it is a worker.
    expect(w1.events('worker')).toHaveLength(1);
    expect(cp2.events('bootstrap-done')).toHaveLength(1);
  }, 90_000);
});
