// Is the state directory really on the host's /var (EPHEMERAL)? Talos may start an extension service
// before EPHEMERAL is mounted over /var (docs/agreement.md, "Talos facts"); the container's bind mount of
// /var/lib/autobootstrap would then hold a directory of the root filesystem underneath, lost at reboot, and
// an acceptor writing there would forget its promises. Compared: the device of the filesystem the host's
// PID 1 sees mounted at the longest mount point above the state directory, and the device of the directory
// as this process sees it.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export interface MountEntry {
  major: number;
  minor: number;
  mountPoint: string;
}

/** Parses /proc/<pid>/mountinfo ("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw"). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length < 5) continue;
    const [maj, min] = (f[2] ?? '').split(':').map(Number);
    if (!Number.isInteger(maj) || !Number.isInteger(min)) continue;
    // Octal escapes (\040 for a space) as the kernel writes them.
    const mountPoint = (f[4] ?? '').replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ major: maj as number, minor: min as number, mountPoint });
  }
  return out;
}

/** The last-mounted entry whose mount point contains `path` (the one that is visible there). */
export function mountFor(entries: MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const e of entries) {
    const within = e.mountPoint === '/' || path === e.mountPoint || path.startsWith(`${e.mountPoint}/`);
    if (within && (!best || e.mountPoint.length >= best.mountPoint.length)) best = e;
  }
  return best;
}

/** glibc's major/minor of a 64-bit dev_t. */
export function splitDev(dev: bigint): { major: number; minor: number } {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & 0xffffff00n));
  return { major, minor };
}

export type PlacementCheck = { kind: 'ok'; mountPoint: string } | { kind: 'wrong-filesystem'; message: string } | { kind: 'unchecked'; message: string };

/**
 * `stateDir` is the path inside the container, equal to the host path (the service spec mounts it at the same
 * path); `hostProc` is the host's /proc as mounted into the service.
 */
export function checkStatePlacement(stateDir: string, hostProc: string): PlacementCheck {
  let text: string;
  try {
    text = readFileSync(join(hostProc, '1', 'mountinfo'), 'utf8');
  } catch (e) {
    return { kind: 'unchecked', message: `cannot read the host's mount table (${String(e)}); the state directory's filesystem is not checked` };
  }
  const host = mountFor(parseMountInfo(text), stateDir);
  if (!host) return { kind: 'unchecked', message: `no host mount contains ${stateDir}` };
  let dev: bigint;
  try {
    dev = statSync(stateDir, { bigint: true }).dev;
  } catch (e) {
    return { kind: 'unchecked', message: `cannot stat ${stateDir}: ${String(e)}` };
  }
  const mine = splitDev(dev);
  if (mine.major === host.major && mine.minor === host.minor) return { kind: 'ok', mountPoint: host.mountPoint };
  return {
    kind: 'wrong-filesystem',
    message:
      `${stateDir} is not on the filesystem the host has mounted at ${host.mountPoint} (device ${mine.major}:${mine.minor} here, ${host.major}:${host.minor} on the host): ` +
      `this service probably started before Talos mounted EPHEMERAL over /var; exiting so that Talos restarts it with the mounted /var`,
  };
}
