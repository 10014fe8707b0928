// The scan's connect probes as bare non-blocking sockets polled together (libc through bun:ffi).
//
// A /16 at 4096 concurrent probes keeps 4096 connections pending at every moment. As node:net sockets
// each costs several KiB of live objects and far more in garbage churned per probe, which took the
// daemon's peak RSS past its 150 MiB budget; here a pending probe is one file descriptor, one small
// record and one promise, and a single timer polls them all. Where libc cannot be loaded (not Linux),
// the caller falls back to node:net (tcp-probe.ts).
import { dlopen, FFIType, ptr, read } from 'bun:ffi';
import { errnoName } from '../util/errno.ts';
import { parseIPv4 } from '../util/ipv4.ts';
import type { ConnectResult } from './tcp-probe.ts';

// Linux values, the same on x86_64 and arm64.
const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const EINPROGRESS = 115;
const POLLOUT = 0x4;
const POLLERR = 0x8;
const POLLHUP = 0x10;
const POLL_EVERY_MS = 10;

function loadLibc() {
  return dlopen('libc.so.6', {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    connect: { args: [FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i32 },
    close: { args: [FFIType.i32], returns: FFIType.i32 },
    poll: { args: [FFIType.ptr, FFIType.u64, FFIType.i32], returns: FFIType.i32 },
    getsockopt: { args: [FFIType.i32, FFIType.i32, FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    getpeername: { args: [FFIType.i32, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
    __errno_location: { args: [], returns: FFIType.ptr },
  }).symbols;
}

type Libc = ReturnType<typeof loadLibc>;

interface Pending {
  fd: number;
  deadline: number;
  resolve: (r: ConnectResult) => void;
}

export class ConnectPool {
  private pending: Pending[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private pollfds = new Uint8Array(0);
  private readonly sockaddr = new Uint8Array(16);
  private readonly int = new Int32Array(1);
  private readonly len = new Uint32Array(1);
  private readonly peer = new Uint8Array(16);

  private constructor(private readonly libc: Libc) {}

  /** A pool, or undefined where libc's socket calls are not available. */
  static create(): ConnectPool | undefined {
    if (process.platform !== 'linux') return undefined;
    try {
      return new ConnectPool(loadLibc());
    } catch {
      return undefined;
    }
  }

  private errno(): number {
    const at = this.libc.__errno_location();
    return at === null ? 0 : read.i32(at, 0);
  }

  connect(address: string, port: number, timeoutMs: number): Promise<ConnectResult> {
    const ip = parseIPv4(address);
    if (ip === undefined) return Promise.resolve({ open: false, reason: 'not an IPv4 address' });
    const fd = this.libc.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return Promise.resolve({ open: false, reason: `socket: ${errnoName(this.errno())}` });
    const sa = this.sockaddr;
    sa.fill(0);
    sa[0] = AF_INET; // sa_family, little-endian u16
    sa[2] = (port >>> 8) & 0xff; // sin_port, network order
    sa[3] = port & 0xff;
    sa[4] = ip >>> 24;
    sa[5] = (ip >>> 16) & 0xff;
    sa[6] = (ip >>> 8) & 0xff;
    sa[7] = ip & 0xff;
    const rc = this.libc.connect(fd, ptr(sa), 16);
    if (rc === 0) {
      this.libc.close(fd);
      return Promise.resolve({ open: true });
    }
    const err = this.errno();
    if (err !== EINPROGRESS) {
      this.libc.close(fd);
      return Promise.resolve({ open: false, reason: errnoName(err) });
    }
    return new Promise((resolve) => {
      this.pending.push({ fd, deadline: performance.now() + timeoutMs, resolve });
      this.timer ??= setInterval(() => this.tick(), POLL_EVERY_MS);
    });
  }

  /** Connected only if the socket reports no error and has a peer (a failed connect has none). */
  private outcome(fd: number): ConnectResult {
    this.len[0] = 4;
    if (this.libc.getsockopt(fd, SOL_SOCKET, SO_ERROR, ptr(this.int), ptr(this.len)) !== 0) return { open: false, reason: 'getsockopt failed' };
    const soError = this.int[0] ?? 0;
    if (soError !== 0) return { open: false, reason: errnoName(soError) };
    this.len[0] = 16;
    return this.libc.getpeername(fd, ptr(this.peer), ptr(this.len)) === 0 ? { open: true } : { open: false, reason: 'not connected' };
  }

  private tick(): void {
    const list = this.pending;
    const n = list.length;
    if (this.pollfds.length < n * 8) this.pollfds = new Uint8Array(Math.max(n, 64) * 8);
    const view = new DataView(this.pollfds.buffer);
    for (let i = 0; i < n; i++) {
      view.setInt32(i * 8, (list[i] as Pending).fd, true);
      view.setInt16(i * 8 + 4, POLLOUT, true);
      view.setInt16(i * 8 + 6, 0, true);
    }
    if (n > 0) this.libc.poll(ptr(this.pollfds), n, 0);
    const now = performance.now();
    const still: Pending[] = [];
    for (let i = 0; i < n; i++) {
      const p = list[i] as Pending;
      const revents = view.getInt16(i * 8 + 6, true);
      if ((revents & (POLLOUT | POLLERR | POLLHUP)) !== 0) {
        const result = this.outcome(p.fd);
        this.libc.close(p.fd);
        p.resolve(result);
      } else if (now >= p.deadline) {
        this.libc.close(p.fd);
        p.resolve({ open: false, reason: 'no answer in time' });
      } else still.push(p);
    }
    // Probes started by the resolutions above were appended to `list` after `n`; keep them.
    for (let i = n; i < list.length; i++) still.push(list[i] as Pending);
    this.pending = still;
    if (still.length === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }
}
