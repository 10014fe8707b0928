// Is the state directory really on the host's /var (EPHEMERAL)? Talos may start an extension service
// before EPHEMERAL is mounted over /var (docs/agreement.md, "Talos facts"); the container's bind mount of
// /var/lib/autobootstrap would then hold a directory of the root filesystem (or of a tmpfs) underneath, lost
// at reboot, and an acceptor writing there would forget its promises. Checked, from the host PID 1's
// mountinfo: the mount holding the state directory is /var or below it, its filesystem type is not one that
// a reboot loses or that cannot be EPHEMERAL (tmpfs, ramfs, squashfs, overlay), and its device is the device
// of the directory as this process sees it. Comparing devices alone is not enough: before EPHEMERAL is
// mounted, host and container see the same (volatile) filesystem.
import { readFileSync, statSync } from 'node:fs';
import { join, relative, isAbsolute } from 'node:path';

export interface MountEntry {
  major: number;
  minor: number;
  mountPoint: string;
  /** The filesystem type, the field after ` - ` (e.g. `xfs`, `tmpfs`); '' when the line has none. */
  fsType: string;
}

/** Filesystem types that never hold EPHEMERAL: lost at reboot (tmpfs, ramfs) or Talos's read-only root. */
export const VOLATILE_FS_TYPES: readonly string[] = ['tmpfs', 'ramfs', 'squashfs', 'overlay', 'rootfs'];

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
    // Optional fields (shared:N, master:N) end at the separator `-`; the filesystem type follows it.
    const sep = f.indexOf('-', 6);
    const fsType = sep >= 0 ? (f[sep + 1] ?? '') : '';
    out.push({ major: maj as number, minor: min as number, mountPoint, fsType });
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

export type PlacementCheck = { kind: 'ok'; mountPoint: string; fsType: string } | { kind: 'wrong-filesystem'; message: string } | { kind: 'unchecked'; message: string };

const EXPECTED =
  "expected: the host's /var mounted from the EPHEMERAL partition (xfs on a Talos node), bound into this service by the spec's mount of /var/lib/autobootstrap (extension/autobootstrap.yaml)";

/**
 * The path the host sees for `stateDir`: on a node (hostRoot `/`) the same path (the service spec mounts it
 * at the same place); under a fixture host root, the part below that root.
 */
export function hostPathOf(stateDir: string, hostRoot: string): string {
  const rel = relative(hostRoot, stateDir);
  if (hostRoot === '/' || rel === '' || rel.startsWith('..') || isAbsolute(rel)) return stateDir;
  return `/${rel}`;
}

/**
 * `stateDir` is the path inside the container; `hostProc` is the host's /proc as mounted into the service;
 * `hostRoot` is TALOS_AUTO_BOOTSTRAP_HOST_ROOT (`/` on a node). Never throws.
 * - ok: the host mount holding the directory is /var or below, persistent, and the directory's device;
 * - wrong-filesystem: it is `/`, outside /var, of a volatile type, or another device (message says which);
 * - unchecked: the host's mount table cannot be read or names no mount for it. On a node that is as bad as
 *   wrong-filesystem: the daemon refuses to start (docs/agreement.md).
 */
export function checkStatePlacement(stateDir: string, hostProc: string, hostRoot = '/'): PlacementCheck {
  const mountinfo = join(hostProc, '1', 'mountinfo');
  let text: string;
  try {
    text = readFileSync(mountinfo, 'utf8');
  } catch (e) {
    return { kind: 'unchecked', message: `cannot read the host's mount table ${mountinfo} (${String(e)}), so it is unknown whether the agreement state ${stateDir} survives a reboot; ${EXPECTED}` };
  }
  const hostPath = hostPathOf(stateDir, hostRoot);
  const host = mountFor(parseMountInfo(text), hostPath);
  if (!host) return { kind: 'unchecked', message: `the host's mount table ${mountinfo} names no mount holding ${hostPath} (the agreement state ${stateDir}); ${EXPECTED}` };
  const found = `found: the host mount holding ${hostPath} is ${host.mountPoint} (${host.fsType || 'unknown type'}, device ${host.major}:${host.minor})`;
  const refuse = (why: string): PlacementCheck => ({
    kind: 'wrong-filesystem',
    message: `agreement state ${stateDir} ${why}; ${found}; ${EXPECTED}. This service probably started before Talos mounted EPHEMERAL over /var; exiting so that Talos restarts it with the mounted /var`,
  });
  if (host.mountPoint === '/') return refuse('is on the host\'s root filesystem, not on EPHEMERAL');
  if (host.mountPoint !== '/var' && !host.mountPoint.startsWith('/var/')) return refuse('is not under the host\'s /var');
  if (host.fsType === '') return { kind: 'unchecked', message: `the host's mount table ${mountinfo} gives no filesystem type for ${host.mountPoint}; ${EXPECTED}` };
  if (VOLATILE_FS_TYPES.includes(host.fsType)) return refuse(`is on a ${host.fsType}, which a reboot loses`);
  let dev: bigint;
  try {
    dev = statSync(stateDir, { bigint: true }).dev;
  } catch (e) {
    return { kind: 'unchecked', message: `cannot stat the agreement state directory ${stateDir}: ${String(e)}; ${EXPECTED}` };
  }
  const mine = splitDev(dev);
  if (mine.major !== host.major || mine.minor !== host.minor) return refuse(`is on device ${mine.major}:${mine.minor} here, not on the host's ${host.mountPoint}`);
  return { kind: 'ok', mountPoint: host.mountPoint, fsType: host.fsType };
}
