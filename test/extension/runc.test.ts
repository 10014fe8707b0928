// The amd64 extension run as Talos runs ext-autobootstrap: an OCI runtime spec built from the service spec in
// the built image root (oci/talos-spec.ts, docs/extension-runtime.md), started by Debian's runc: read-only
// root, host network and IPC, private PID, mount and UTS namespaces, every grantable capability, all devices
// allowed, containerd's masked and read-only paths, its default seccomp profile and no_new_privs.
//
// Needs root (runc, overlay, loop devices) and a private network namespace (host network = the test's):
//   unshare -n bash -c 'ip link set lo up && node_modules/.bin/bun test test/extension/runc.test.ts'
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BlockDevices, mountsOf } from '../e2e/block-devices.ts';
import { startCluster, threeControlPlanes, type Harness } from '../e2e/cluster-harness.ts';
import { DaemonProcess, loopbackDaemonEnv } from '../e2e/daemon-process.ts';
import { EXIT } from '../../src/exit-codes.ts';
import { containerRoot, imageRoot, installedSpec, requireBuilt } from './build-outputs.ts';
import { RuncBundles, requireRunc } from './oci/runc-bundle.ts';
import {
  CAPABILITY_NAMES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  generatedSeccomp,
  grantableCapabilities,
  readServiceSpec,
  SECCOMP_CONSULTED_CAPABILITIES,
} from './oci/talos-spec.ts';

const isRoot = process.getuid?.() === 0;
// Outside CI a non-root developer cannot run these; in CI a skip would hide a broken runner, so never.
const skip = !isRoot && !process.env.CI;
const SUBNET = '127.0.131';

let work = '';
let bundles: RuncBundles;
let devices: BlockDevices | undefined;
let h: Harness | undefined;

beforeAll(() => {
  if (skip) return;
  requireRunc();
  work = mkdtempSync(join(tmpdir(), 'ab-ext-runc-'));
  bundles = new RuncBundles(join(work, 'bundles'), requireBuilt(installedSpec('amd64'), 'rootfs'), requireBuilt(containerRoot('amd64'), 'rootfs'));
});

afterEach(async () => {
  await h?.close();
  h = undefined;
});

afterAll(() => {
  if (!work) return;
  expect(bundles.cleanup()).toEqual([]);
  expect(devices?.cleanup() ?? []).toEqual([]);
  // Nothing of any container, overlay or STATE mount is left in the test's mount namespace.
  expect(readFileSync('/proc/self/mountinfo', 'utf8').includes(work)).toBe(false);
  rmSync(work, { recursive: true, force: true });
});

/** The argv of runc, under its own name, as DaemonProcess spawns it; PATH finds runc. */
function daemonInContainer(name: string, env: Record<string, string>, fixture: string): DaemonProcess {
  const c = bundles.create(`${name}-${Date.now()}`, { fixture, env });
  return new DaemonProcess(name, {}, c.command);
}

/** Every file under dir, relative. */
function files(dir: string, rel = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = rel ? `${rel}/${name}` : name;
    return statSync(join(dir, name)).isDirectory() ? files(join(dir, name), path) : [path];
  });
}

/** Fixture files that no spec mount serves: the daemon would not see them on a node. */
function uncoveredFixturePaths(fixture: string): string[] {
  const destinations = readServiceSpec(installedSpec('amd64')).container.mounts.map((m) => m.destination);
  return files(fixture).filter((f) => !destinations.some((d) => `/${f}`.startsWith(`${d}/`)));
}

describe.skipIf(skip)('the extension under runc, as Talos runs it', () => {
  test('the container root holds the binary, its loader and glibc, and nothing of the host', () => {
    const ctr = containerRoot('amd64');
    expect(readdirSync(ctr).sort()).toEqual(['autobootstrap', 'dev', 'etc', 'host', 'lib', 'lib64', 'proc', 'run', 'sys', 'system', 'tmp', 'usr', 'var']);
    // No loader cache and no other library directory: the loader can only use what is shipped.
    expect(existsSync(join(ctr, 'etc/ld.so.cache'))).toBe(false);
    expect(readdirSync(join(ctr, 'usr'))).toEqual(['share']);
    expect(readdirSync(join(ctr, 'etc'))).toEqual([]);
  });

  test('the runtime spec: built from the installed service spec with Talos and containerd defaults', () => {
    const service = readServiceSpec(installedSpec('amd64'));
    const c = bundles.create('spec-only', { argv: ['/autobootstrap', '--version'] });
    const spec = c.spec as {
      process: { args: string[]; noNewPrivileges: boolean; capabilities: { bounding: string[] } };
      root: { readonly: boolean };
      mounts: { destination: string; type: string; options: string[] }[];
      linux: { namespaces: { type: string }[]; resources: { devices: unknown[] }; maskedPaths: string[]; readonlyPaths: string[]; seccomp: unknown };
    };
    expect(spec.root.readonly).toBe(true);
    expect(spec.process.noNewPrivileges).toBe(true);
    expect(spec.linux.namespaces.map((n) => n.type).sort()).toEqual(['mount', 'pid', 'uts']);
    expect(spec.linux.resources.devices).toEqual([{ allow: true, access: 'rwm' }]);
    expect(spec.linux.maskedPaths).toEqual(DEFAULT_MASKED_PATHS);
    expect(spec.linux.readonlyPaths).toEqual(DEFAULT_READONLY_PATHS);
    const caps = spec.process.capabilities.bounding;
    expect(caps).not.toContain('CAP_SYS_BOOT');
    expect(caps).not.toContain('CAP_SYS_MODULE');
    expect(caps).toContain('CAP_SYS_ADMIN');
    // The committed profile was generated for the capabilities this spec grants, as far as the profile looks.
    const generated = generatedSeccomp();
    for (const cap of SECCOMP_CONSULTED_CAPABILITIES) expect([cap, caps.includes(cap)]).toEqual([cap, generated.capabilities.includes(cap)]);
    expect(spec.linux.seccomp).toEqual(generated.seccomp);
    // containerd's /dev tmpfs first, then every spec mount, in the spec's order, at its own destination.
    const dests = spec.mounts.map((m) => m.destination);
    expect(dests.slice(0, 9)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/run', '/etc/hosts', '/etc/resolv.conf']);
    expect(dests.slice(9)).toEqual(service.container.mounts.map((m) => m.destination));
    expect(spec.mounts.find((m) => m.type === 'sysfs')?.options).toContain('ro');
  });

  test('--version: exit 0 seen by the runtime, nothing on stderr', () => {
    const c = bundles.create('version', { argv: ['/autobootstrap', '--version'] });
    const run = Bun.spawnSync(c.command, { stdout: 'pipe', stderr: 'pipe' });
    expect(run.stderr.toString()).toBe('');
    // One version form everywhere: the binary prints exactly what the manifest (talosctl get extensions) says.
    const manifest = readFileSync(join(imageRoot('amd64'), 'manifest.yaml'), 'utf8');
    const version = /^\s+version: "?([^"\n]+)"?$/m.exec(manifest)?.[1];
    expect(version).toMatch(/^v\d+\.\d+\.\d+-/);
    expect(run.stdout.toString()).toBe(`autobootstrap ${version}\n`);
    expect(run.exitCode).toBe(0);
  });

  test('a usage error: the runtime sees the daemon’s non-zero exit code', () => {
    // An invalid QUORUM_NODES: the configuration error exit code (2), reported by runc as the container's
    // status. No pause before exiting (the default keeps Talos's restarts from flooding the log).
    const c = bundles.create('config-error', { env: { TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: 'seven', TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: '0s' } });
    const run = Bun.spawnSync(c.command, { stdout: 'pipe', stderr: 'pipe' });
    const lines = run.stdout.toString().trim().split('\n');
    expect(lines.some((l) => l.includes('TALOS_AUTO_BOOTSTRAP_QUORUM_NODES'))).toBe(true);
    expect(run.stderr.toString()).toBe('');
    expect(run.exitCode).toBe(EXIT.CONFIG);
  });

  test('inside, as the kernel reports it: namespaces, read-only root, capabilities, no_new_privs, seccomp; SIGTERM seen as exit 0', async () => {
    // One control plane of a three-node quorum that never comes: the daemon waits, so it can be looked at.
    h = await startCluster({ subnet: SUBNET, quorum: 3, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
    const fixture = h.sim.hostRoot('cp1') as string;
    const c = bundles.create('inside', { fixture, env: loopbackDaemonEnv({ quorum: 3, nodeIp: h.ip('cp1'), subnet: SUBNET }) });
    const d = new DaemonProcess('cp1', {}, c.command);
    h.daemons.push(d);
    await d.waitFor((l) => l.event === 'control-plane', 30_000, 'control-plane line');
    const state = JSON.parse(Bun.spawnSync(['runc', '--root', bundles.stateDir, 'state', c.id], { stdout: 'pipe' }).stdout.toString()) as { pid: number; status: string };
    expect(state.status).toBe('running');
    const ns = (pid: number | 'self', kind: string) => readlinkSync(`/proc/${pid}/ns/${kind}`);
    // Host network and IPC; private PID, mount and UTS namespaces.
    expect(ns(state.pid, 'net')).toBe(ns('self', 'net'));
    expect(ns(state.pid, 'ipc')).toBe(ns('self', 'ipc'));
    for (const kind of ['pid', 'mnt', 'uts']) expect(ns(state.pid, kind)).not.toBe(ns('self', kind));
    const status = readFileSync(`/proc/${state.pid}/status`, 'utf8');
    const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, 'm').exec(status)?.[1];
    expect(field('NoNewPrivs')).toBe('1');
    expect(field('Seccomp')).toBe('2'); // SECCOMP_MODE_FILTER
    expect(field('NSpid')).toBeDefined();
    expect(status).toMatch(/^NSpid:\s*\d+\s+1$/m); // PID 1 inside its own PID namespace
    const capEff = BigInt(`0x${field('CapEff')}`);
    const bit = (name: string) => (capEff >> BigInt(CAPABILITY_NAMES.indexOf(name as (typeof CAPABILITY_NAMES)[number]))) & 1n;
    expect(bit('CAP_SYS_ADMIN')).toBe(1n);
    expect(bit('CAP_SYS_BOOT')).toBe(0n);
    expect(bit('CAP_SYS_MODULE')).toBe(0n);
    for (const cap of grantableCapabilities()) expect([cap, bit(cap)]).toEqual([cap, 1n]);
    // Its root is read-only; /dev is the node's, bound read-only; sysfs is read-only.
    const mountinfo = readFileSync(`/proc/${state.pid}/mountinfo`, 'utf8').split('\n');
    const at = (mp: string) => mountinfo.filter((l) => l.split(' ')[4] === mp).at(-1) ?? '';
    expect(at('/').split(' ')[5]?.split(',')).toContain('ro');
    expect(at('/dev').split(' ')[5]?.split(',')).toContain('ro');
    // runc masks each default masked path that exists on this kernel (a /dev/null bind or an empty tmpfs).
    const masked = DEFAULT_MASKED_PATHS.filter((p) => existsSync(p));
    expect(masked.length).toBeGreaterThan(0);
    for (const p of masked) expect([p, at(p) !== '']).toEqual([p, true]);
    for (const p of DEFAULT_READONLY_PATHS.filter((q) => existsSync(q))) expect([p, at(p).split(' ')[5]?.split(',').includes('ro')]).toEqual([p, true]);
    expect(at('/sys').split(' ')[5]?.split(',')).toContain('ro');
    // SIGTERM through the runtime (as containerd stops a service): the daemon stops, runc reports its 0.
    expect(Bun.spawnSync(['runc', '--root', bundles.stateDir, 'kill', c.id, 'TERM']).exitCode).toBe(0);
    expect(await d.exitWithin(20_000)).toBe(0);
    expect(d.stderr).toEqual([]);
  }, 60_000);

  test('three control planes and a worker, each daemon in its own runc container: one Bootstrap, one cluster', async () => {
    const nodes = [...threeControlPlanes([1_700_000_300, 1_700_000_100, 1_700_000_200]), { name: 'w1', host: 21, type: 'worker' as const, bootTime: 1_700_000_050 }];
    h = await startCluster({ subnet: SUBNET, quorum: 3, nodes });
    const harness = h;
    for (const n of nodes) {
      const fixture = harness.sim.hostRoot(n.name) as string;
      // The spec's mounts cover every file the simulated node offers the daemon.
      expect(uncoveredFixturePaths(fixture)).toEqual([]);
      const env = loopbackDaemonEnv({ quorum: 3, nodeIp: harness.ip(n.name), subnet: SUBNET, peers: ['cp1', 'cp2', 'cp3'].map((c) => harness.ip(c)) });
      harness.daemons.push(daemonInContainer(n.name, env, fixture));
    }
    // The exit codes are runc's: the status of each container's process.
    const codes = await Promise.all(harness.daemons.map((d) => d.exitWithin(90_000)));
    expect(codes).toEqual([0, 0, 0, 0]);
    expect(harness.sim.bootstrapCalls().map((b) => b.node)).toEqual(['cp2']);
    expect(harness.sim.successfulBootstraps()).toHaveLength(1);
    expect(harness.sim.etcdClusters()).toHaveLength(1);
    expect(harness.sim.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);
    const [cp1, cp2, cp3, w1] = harness.daemons as [DaemonProcess, DaemonProcess, DaemonProcess, DaemonProcess];
    for (const d of [cp1, cp2, cp3, w1]) expect(d.stderr).toEqual([]);
    for (const d of [cp1, cp2, cp3]) expect(d.events('control-plane')[0]?.why).toBe('/system/secrets/etcd/ca.crt exists');
    expect(w1.events('worker')).toHaveLength(1);
    expect(cp2.events('bootstrap-done')).toHaveLength(1);
    // The boot time came from the node's /proc bound at /host/proc, not the container's own PID namespace.
    expect(cp1.lines.some((l) => JSON.stringify(l).includes('1700000300'))).toBe(true);
  }, 120_000);

  test('STATE read from a real XFS loop device through the container’s /dev bind; nothing left mounted', async () => {
    devices ??= new BlockDevices(work);
    h = await startCluster({ subnet: SUBNET, quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
    const fixture = h.sim.hostRoot('cp1') as string;
    // Talos v1.12+: STATE is not kept mounted, so the daemon must read the partition itself.
    rmSync(join(fixture, 'system/state/config.yaml'));
    const dev = devices.xfs('runc-state', { 'config.yaml': h.sim.node('cp1').machineConfig });
    // The node's /dev: the loop device's own node and udev's by-partlabel link, plus the usual char devices.
    const nodeDev = join(fixture, 'dev');
    mkdirSync(join(nodeDev, 'disk/by-partlabel'), { recursive: true });
    const { rdev } = statSync(dev);
    const mk = (path: string, kind: 'b' | 'c', major: number, minor: number) => {
      const r = Bun.spawnSync(['mknod', '-m', '0660', path, kind, String(major), String(minor)], { stderr: 'pipe' });
      if (r.exitCode !== 0) throw new Error(`mknod ${path}: ${r.stderr.toString()}`);
    };
    mk(join(nodeDev, basename(dev)), 'b', Math.floor(rdev / 256), rdev % 256);
    for (const [n, minor] of [['null', 3], ['zero', 5], ['full', 7], ['random', 8], ['urandom', 9]] as const) mk(join(nodeDev, n), 'c', 1, minor);
    symlinkSync(`../../${basename(dev)}`, join(nodeDev, 'disk/by-partlabel/STATE'));

    const env = loopbackDaemonEnv({ quorum: 1, nodeIp: h.ip('cp1'), subnet: SUBNET });
    const d = daemonInContainer('cp1', env, fixture);
    h.daemons.push(d);
    expect(await d.exitWithin(60_000)).toBe(0);
    expect(d.stderr).toEqual([]);
    expect(d.events('ca-source-used')[0]?.source).toBe('state-partition');
    expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp1']);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    // The daemon's read-only STATE mount lived in the container's mount namespace and went with it.
    expect(mountsOf(dev)).toEqual([]);
    expect(readdirSync(join(fixture, 'run/autobootstrap'))).toEqual([]);
  }, 90_000);
});
