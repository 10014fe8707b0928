// readFileFromDevice: the mount → read → umount → rmdir sequence, its retries and its cleanup on every path.
import { afterEach, describe, expect, test } from 'bun:test';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/bootstrap/core/backoff.ts';
import { readFileFromDevice, type DeviceReadDeps } from '../../src/host/mount/read-from-device.ts';
import { MOUNT_BACKOFF, nextMountDelay } from '../../src/host/mount/retry-schedule.ts';
import { EBUSY, EINVAL, MNT_DETACH, READ_ONLY_INERT } from '../../src/host/mount/syscalls.ts';
import { FakeMount, type FakeMountScript } from '../fixtures/host/fake-mount.ts';

const DEVICE = '/dev/fake-state';
const CONFIG = 'version: v1alpha1\nmachine:\n  type: controlplane\n';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(script: Partial<FakeMountScript>, budgetMs = 10_000) {
  const root = mkdtempSync(join(tmpdir(), 'ab-mount-'));
  dirs.push(root);
  const runDir = join(root, 'run/autobootstrap');
  const fake = new FakeMount({ devices: { [DEVICE]: { 'config.yaml': CONFIG } }, ...script });
  const slept: number[] = [];
  const retries: { attempt: number; errno: number; delayMs: number }[] = [];
  const problems: string[] = [];
  const deps: DeviceReadDeps = {
    sys: fake,
    sleep: async (ms) => void slept.push(ms),
    random: seededRandom(3),
    onRetry: ({ attempt, errno, delayMs }) => retries.push({ attempt, errno, delayMs }),
    onCleanupProblem: (p) => problems.push(p),
  };
  const run = (file = 'config.yaml') => readFileFromDevice({ device: DEVICE, fsType: 'xfs', file, runDir, retryBudgetMs: budgetMs }, deps);
  return { fake, runDir, slept, retries, problems, run };
}

describe('readFileFromDevice', () => {
  test('mounts read-only, nosuid, nodev, noexec on a private directory; reads; unmounts; removes the directory', async () => {
    const s = setup({});
    const out = await s.run();
    if (!out.ok) throw new Error(out.reason);
    expect(out.bytes.toString()).toBe(CONFIG);
    expect(out.attempts).toBe(1);
    const [mount, umount] = s.fake.calls;
    expect(mount?.args[0]).toBe(DEVICE);
    expect(String(mount?.args[1])).toStartWith(join(s.runDir, 'state-'));
    expect(mount?.args.slice(2)).toEqual(['xfs', READ_ONLY_INERT]);
    expect(READ_ONLY_INERT).toBe(1 | 2 | 4 | 8);
    expect(umount).toEqual({ call: 'umount2', args: [mount?.args[1] as string, 0], errno: 0 });
    expect(s.fake.mounted.size).toBe(0);
    expect(readdirSync(s.runDir)).toEqual([]);
    expect(s.problems).toEqual([]);
  });

  test('EBUSY twice, then it mounts: two retries with growing backoff, each reported', async () => {
    const s = setup({ mountErrnos: [EBUSY, EBUSY] });
    const out = await s.run();
    expect(out.ok).toBe(true);
    expect(out.attempts).toBe(3);
    expect(s.retries.map((r) => [r.attempt, r.errno])).toEqual([
      [1, EBUSY],
      [2, EBUSY],
    ]);
    expect(s.slept).toEqual(s.retries.map((r) => r.delayMs));
    // Equal jitter: each delay within [50%, 100%] of its exponential step.
    expect(s.slept[0]).toBeGreaterThanOrEqual(MOUNT_BACKOFF.initialMs / 2);
    expect(s.slept[0]).toBeLessThanOrEqual(MOUNT_BACKOFF.initialMs);
    expect(s.slept[1]).toBeGreaterThanOrEqual(MOUNT_BACKOFF.initialMs);
    expect(s.slept[1]).toBeLessThanOrEqual(MOUNT_BACKOFF.initialMs * 2);
    expect(s.fake.calls.filter((c) => c.call === 'mount')).toHaveLength(3);
    expect(s.fake.mounted.size).toBe(0);
    expect(readdirSync(s.runDir)).toEqual([]);
  });

  test('busy for ever: gives up when the retry budget is spent, says so, leaves nothing behind', async () => {
    const s = setup({ mountErrnos: Array(100).fill(EBUSY) }, 3_000);
    const out = await s.run();
    if (out.ok) throw new Error('expected failure');
    expect(out.transient).toBe(true);
    expect(out.reason).toMatch(/EBUSY: busy.*still failing after \d+ attempts over 3000 ms/);
    expect(s.slept.reduce((a, b) => a + b, 0)).toBe(3_000);
    expect(s.fake.calls.every((c) => c.call === 'mount')).toBe(true);
    expect(readdirSync(s.runDir)).toEqual([]);
  });

  test('a permanent error (EINVAL: not XFS) is not retried', async () => {
    const s = setup({ mountErrnos: [EINVAL] });
    const out = await s.run();
    if (out.ok) throw new Error('expected failure');
    expect(out.transient).toBe(false);
    expect(out.reason).toBe(`mount ${DEVICE} (xfs, read-only) failed: EINVAL: invalid argument (not an XFS filesystem, or not mounted)`);
    expect(s.retries).toEqual([]);
    expect(readdirSync(s.runDir)).toEqual([]);
  });

  test('the file is missing on the filesystem: still unmounted and removed', async () => {
    const s = setup({});
    const out = await s.run('nope.yaml');
    if (out.ok) throw new Error('expected failure');
    expect(out.reason).toMatch(/mounted, but nope\.yaml cannot be read: ENOENT/);
    expect(s.fake.mounted.size).toBe(0);
    expect(readdirSync(s.runDir)).toEqual([]);
  });

  test('umount refused (EBUSY): detached lazily with MNT_DETACH, directory still removed', async () => {
    const s = setup({ umountErrnos: [EBUSY] });
    const out = await s.run();
    expect(out.ok).toBe(true);
    const umounts = s.fake.calls.filter((c) => c.call === 'umount2');
    expect(umounts.map((c) => [c.args[1], c.errno])).toEqual([
      [0, EBUSY],
      [MNT_DETACH, 0],
    ]);
    expect(s.fake.mounted.size).toBe(0);
    expect(readdirSync(s.runDir)).toEqual([]);
    expect(s.problems).toEqual([]);
  });

  test('umount and lazy detach both refused: reported loudly, never silent', async () => {
    const s = setup({ umountErrnos: [EBUSY, EBUSY] });
    await s.run();
    expect(s.problems.some((p) => /could not unmount .*EBUSY.*lazy detach: EBUSY/.test(p))).toBe(true);
    // The directory cannot go while something is mounted on it, and that is reported too.
    expect(s.problems.some((p) => /could not remove the mount point/.test(p))).toBe(true);
  });

  test('stopped while waiting to retry a busy mount: no further attempt, nothing left behind', async () => {
    const s = setup({ mountErrnos: [EBUSY, EBUSY, EBUSY] });
    const stop = new AbortController();
    const out = await readFileFromDevice(
      { device: DEVICE, fsType: 'xfs', file: 'config.yaml', runDir: s.runDir, retryBudgetMs: 10_000 },
      { sys: s.fake, sleep: async () => stop.abort(), random: () => 0, signal: stop.signal },
    );
    if (out.ok) throw new Error('expected failure');
    expect(out.reason).toMatch(/stopped before/);
    expect(s.fake.calls.filter((c) => c.call === 'mount')).toHaveLength(1);
    expect(readdirSync(s.runDir)).toEqual([]);
  });

  test('empty mount points a killed run left behind are removed; anything else is left alone', async () => {
    const s = setup({});
    mkdirSync(join(s.runDir, 'state-stale1'), { recursive: true });
    mkdirSync(join(s.runDir, 'state-busy/inside'), { recursive: true });
    mkdirSync(join(s.runDir, 'other'));
    const out = await s.run();
    expect(out.ok).toBe(true);
    expect(readdirSync(s.runDir).sort()).toEqual(['other', 'state-busy']);
  });

  test('the run directory cannot be created: one clear reason, no mount tried', async () => {
    const s = setup({});
    const out = await readFileFromDevice(
      { device: DEVICE, fsType: 'xfs', file: 'config.yaml', runDir: '/proc/version/x', retryBudgetMs: 0 },
      { sys: s.fake, sleep: async () => {}, random: () => 0 },
    );
    if (out.ok) throw new Error('expected failure');
    expect(out.reason).toMatch(/cannot create a private mount point under \/proc\/version\/x/);
    expect(s.fake.calls).toEqual([]);
    expect(existsSync('/proc/version/x')).toBe(false);
  });
});

describe('nextMountDelay', () => {
  test('follows the jittered backoff and never passes the budget', () => {
    const rnd = seededRandom(11);
    let waited = 0;
    const delays: number[] = [];
    for (let retry = 0; ; retry++) {
      const d = nextMountDelay(retry, waited, 10_000, rnd);
      if (d === undefined) break;
      delays.push(d);
      waited += d;
    }
    expect(waited).toBe(10_000);
    expect(delays.length).toBeGreaterThan(3);
    for (const d of delays) expect(d).toBeLessThanOrEqual(MOUNT_BACKOFF.maxMs);
  });
  test('a zero budget allows no retry', () => {
    expect(nextMountDelay(0, 0, 0, () => 0.5)).toBeUndefined();
  });
});
