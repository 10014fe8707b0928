// The extension binaries on the CPUs they are built for, emulated by qemu-user:
// - arm64: the aarch64 build, with only its own loader and glibc, bootstraps a simulated node;
// - amd64: the baseline build bootstraps a simulated node on a CPU without AVX/AVX2 (Nehalem), next to a
//   control that proves that CPU model rejects an AVX2 instruction.
// Root-only (a private mount namespace hides any host aarch64 libraries); CI runs as root and never skips.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Harness } from '../e2e/cluster-harness.ts';
import { DaemonProcess, FAST_ENV } from '../e2e/daemon-process.ts';
import { containerRoot, requireBuilt, type Arch } from './build-outputs.ts';
import { NO_AVX2_CPU, qemuCommand, writeAvx2Probe } from './emulated-cpu.ts';

const isRoot = process.getuid?.() === 0;
const skip = !isRoot && !process.env.CI;
const work = mkdtempSync(join(tmpdir(), 'ab-ext-qemu-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const AARCH64_HOST_LIBS = ['/lib/aarch64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/lib/ld-linux-aarch64.so.1'];
const QEMU: Record<Arch, string[]> = { arm64: ['qemu-aarch64'], amd64: ['qemu-x86_64', '-cpu', NO_AVX2_CPU] };
// qemu-x86_64 itself needs the host's x86-64 libraries; amd64 isolation is runc.test.ts's job.
const HIDDEN: Record<Arch, string[]> = { arm64: AARCH64_HOST_LIBS, amd64: [] };

/** One control plane, quorum 1: the daemon reads its CA, mints certificates, talks mTLS gRPC, bootstraps. */
async function bootstrapOneNode(arch: Arch, subnet: string): Promise<{ h: Harness; d: DaemonProcess }> {
  const h = await startCluster({ subnet, quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane', bootTime: 1_700_000_000 }] });
  const env = {
    ...FAST_ENV,
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '1',
    TALOS_AUTO_BOOTSTRAP_HOST_ROOT: h.sim.hostRoot('cp1') as string,
    TALOS_AUTO_BOOTSTRAP_NODE_IP: h.ip('cp1'),
    TALOS_AUTO_BOOTSTRAP_LOCAL_APID: h.ip('cp1'),
    TALOS_AUTO_BOOTSTRAP_PEERS: h.ip('cp1'),
    TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: `${subnet}.1/32`,
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'scan,static',
    // Emulation is slower: give probes room (still far below the interval).
    TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '4s',
    TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '5s',
  };
  const root = requireBuilt(containerRoot(arch), 'rootfs');
  const d = new DaemonProcess(`${arch}-cp1`, env, qemuCommand({ qemu: QEMU[arch], root, args: ['run'], hostLibPaths: HIDDEN[arch] }));
  h.daemons.push(d);
  return { h, d };
}

describe.skipIf(skip)('emulated CPUs', () => {
  test(`control: the ${NO_AVX2_CPU} model rejects AVX2, Haswell runs it`, () => {
    const probe = join(work, 'avx2-probe');
    writeAvx2Probe(probe);
    const without = Bun.spawnSync(['qemu-x86_64', '-cpu', NO_AVX2_CPU, probe], { stderr: 'pipe' });
    expect(without.signalCode).toBe('SIGILL');
    const withAvx2 = Bun.spawnSync(['qemu-x86_64', '-cpu', 'Haswell', probe], { stderr: 'pipe' });
    expect(withAvx2.exitCode).toBe(0);
  });

  for (const arch of ['arm64', 'amd64'] as const) {
    test(`${arch}: --version`, () => {
      const root = requireBuilt(containerRoot(arch), 'rootfs');
      const run = Bun.spawnSync(qemuCommand({ qemu: QEMU[arch], root, args: ['--version'], hostLibPaths: HIDDEN[arch] }), { stdout: 'pipe', stderr: 'pipe' });
      expect([run.exitCode, run.stdout.toString()]).toEqual([0, expect.stringMatching(/^autobootstrap v\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?\n$/)]);
    }, 60_000);
  }

  test('arm64 and amd64 (no AVX2) each bootstrap a simulated node', async () => {
    const runs = await Promise.all([bootstrapOneNode('arm64', '127.0.132'), bootstrapOneNode('amd64', '127.0.133')]);
    try {
      const codes = await Promise.all(runs.map(({ d }) => d.exitWithin(100_000)));
      expect(codes).toEqual([0, 0]);
      for (const { h, d } of runs) {
        expect(d.stderr).toEqual([]);
        expect(h.sim.successfulBootstraps().map((b) => b.node)).toEqual(['cp1']);
        expect(d.events('bootstrap-done')).toHaveLength(1);
      }
    } finally {
      await Promise.all(runs.map(({ h }) => h.close()));
    }
  }, 120_000);
});
