// Reads one file from a block device's filesystem without leaving a trace: a private directory under the
// host's run/autobootstrap/, a read-only inert mount, the read, then umount (lazily if it must) and rmdir —
// on every path out, errors included. A mount refused as busy (machined holds STATE for a moment on
// Talos v1.12+) is retried with backoff within a budget.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { nextMountDelay } from './retry-schedule.ts';
import { describeErrno, isTransient, MNT_DETACH, READ_ONLY_INERT, type MountSyscalls } from './syscalls.ts';
import { errorCode } from '../../util/error-code.ts';

/** Every private mount point is a directory named state-XXXXXX under the run directory. */
export const MOUNT_POINT_PREFIX = 'state-';

export interface DeviceReadRequest {
  device: string;
  fsType: string;
  /** Path of the file inside the filesystem, e.g. config.yaml. */
  file: string;
  /** Parent of the private mount point, created if missing. */
  runDir: string;
  /** How long, in summed retry delays, a busy device may be retried. */
  retryBudgetMs: number;
}

export interface DeviceReadDeps {
  sys: MountSyscalls;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Told before each wait, so the caller can log that (and why) it is retrying. */
  onRetry?: (event: { attempt: number; errno: number; reason: string; delayMs: number }) => void;
  /** Told of anything left behind that could not be cleaned up (should never happen; must be loud if it does). */
  onCleanupProblem?: (problem: string) => void;
  /** Once aborted (SIGTERM), no further mount is attempted; the cleanup still runs. */
  signal?: AbortSignal;
}

export type DeviceReadResult =
  | { ok: true; bytes: Buffer; attempts: number }
  | { ok: false; reason: string; attempts: number; transient: boolean };

export async function readFileFromDevice(req: DeviceReadRequest, deps: DeviceReadDeps): Promise<DeviceReadResult> {
  let dir: string;
  try {
    mkdirSync(req.runDir, { recursive: true, mode: 0o700 });
    removeStaleMountPoints(req.runDir);
    dir = mkdtempSync(join(req.runDir, MOUNT_POINT_PREFIX));
  } catch (e) {
    return { ok: false, reason: `cannot create a private mount point under ${req.runDir}: ${errorCode(e)}`, attempts: 0, transient: false };
  }
  try {
    return await mountReadUnmount(dir, req, deps);
  } finally {
    try {
      rmdirSync(dir);
    } catch (e) {
      deps.onCleanupProblem?.(`could not remove the mount point ${dir}: ${errorCode(e)}`);
    }
  }
}

async function mountReadUnmount(dir: string, req: DeviceReadRequest, deps: DeviceReadDeps): Promise<DeviceReadResult> {
  let attempts = 0;
  let waited = 0;
  for (;;) {
    if (deps.signal?.aborted) return { ok: false, reason: `stopped before ${req.device} could be mounted`, attempts, transient: false };
    attempts++;
    const errno = deps.sys.mount(req.device, dir, req.fsType, READ_ONLY_INERT);
    if (errno === 0) break;
    const reason = `mount ${req.device} (${req.fsType}, read-only) failed: ${describeErrno(errno)}`;
    if (!isTransient(errno)) return { ok: false, reason, attempts, transient: false };
    const delay = nextMountDelay(attempts - 1, waited, req.retryBudgetMs, deps.random);
    if (delay === undefined) {
      return { ok: false, reason: `${reason}; still failing after ${attempts} attempts over ${waited} ms`, attempts, transient: true };
    }
    deps.onRetry?.({ attempt: attempts, errno, reason, delayMs: delay });
    await deps.sleep(delay);
    waited += delay;
  }
  try {
    const bytes = readFileSync(join(dir, req.file));
    return { ok: true, bytes, attempts };
  } catch (e) {
    return { ok: false, reason: `${req.device} mounted, but ${req.file} cannot be read: ${errorCode(e)}`, attempts, transient: false };
  } finally {
    unmount(dir, deps);
  }
}

/**
 * Empty mount points left by a run that was killed between mkdtemp and rmdir (its mount died with its mount
 * namespace). rmdir removes only empty directories, so one still holding a mount is left alone.
 */
function removeStaleMountPoints(runDir: string): void {
  for (const name of readdirSync(runDir)) {
    if (!name.startsWith(MOUNT_POINT_PREFIX)) continue;
    try {
      rmdirSync(join(runDir, name));
    } catch {
      // Busy or not empty: not ours to touch.
    }
  }
}

/** A plain umount first; if the kernel refuses (something still holds it), detach it lazily so nothing stays visible. */
function unmount(dir: string, deps: DeviceReadDeps): void {
  const plain = deps.sys.umount2(dir, 0);
  if (plain === 0) return;
  const lazy = deps.sys.umount2(dir, MNT_DETACH);
  if (lazy !== 0) {
    deps.onCleanupProblem?.(`could not unmount ${dir}: ${describeErrno(plain)}; lazy detach: ${describeErrno(lazy)}`);
  }
}
