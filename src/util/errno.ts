// Linux errno names (the same numbers on x86_64 and arm64), for the two places that call libc through
// bun:ffi and get a bare number back: the STATE mount and the scan's connect probes.
const NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  15: 'ENOTBLK',
  16: 'EBUSY',
  19: 'ENODEV',
  20: 'ENOTDIR',
  22: 'EINVAL',
  23: 'ENFILE',
  24: 'EMFILE',
  30: 'EROFS',
  101: 'ENETUNREACH',
  110: 'ETIMEDOUT',
  111: 'ECONNREFUSED',
  113: 'EHOSTUNREACH',
  115: 'EINPROGRESS',
  117: 'EUCLEAN',
};

export function errnoName(errno: number): string {
  return NAMES[errno] ?? `errno ${errno}`;
}
