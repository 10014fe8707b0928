// The two system calls a private, read-only mount needs, as an interface: the real one is bun:ffi to libc
// (libc.ts); tests hand in a fake that fails on cue, so the retry and cleanup logic runs without root.
// Both return 0 on success or the errno value, never throw: every caller must decide what a failure means.

import { errnoName } from '../../util/errno.ts';

export interface MountSyscalls {
  mount(source: string, target: string, fsType: string, flags: number): number;
  umount2(target: string, flags: number): number;
}

// <sys/mount.h>
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MNT_DETACH = 2;

/** Read-only and nothing on it may act: the filesystem holds every secret of the cluster, nothing else. */
export const READ_ONLY_INERT = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

// What each errno a mount can produce means here (names from util/errno.ts).
const MEANING: Record<number, string> = {
  1: 'not permitted (the service needs CAP_SYS_ADMIN)',
  2: 'the device or mount point does not exist',
  4: 'interrupted',
  5: 'I/O error reading the device',
  6: 'no such device',
  11: 'temporarily unavailable',
  12: 'out of memory',
  13: 'permission denied',
  15: 'not a block device',
  16: 'busy (machined may have it mounted right now)',
  19: 'the kernel has no XFS support',
  20: 'the mount point is not a directory',
  22: 'invalid argument (not an XFS filesystem, or not mounted)',
  30: 'read-only',
  117: 'the XFS filesystem is corrupted',
};

export const EBUSY = 16;
export const EAGAIN = 11;
export const EINTR = 4;
export const EINVAL = 22;
export const ENOENT = 2;

/** Errors that pass by themselves: machined holding STATE for a moment, a signal, a busy kernel. */
export function isTransient(errno: number): boolean {
  return errno === EBUSY || errno === EAGAIN || errno === EINTR;
}

export { errnoName };

/** "EBUSY: busy (machined may have it mounted right now)" */
export function describeErrno(errno: number): string {
  const meaning = MEANING[errno];
  return meaning ? `${errnoName(errno)}: ${meaning}` : errnoName(errno);
}
