// Runs the compiled daemon as a child process and collects its JSON log lines.
import { spawn, type Subprocess } from 'bun';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { linesOf, type OutputLine } from './secret-scan.ts';

/** The compiled daemon; AUTOBOOTSTRAP_BINARY points a run at another build (e.g. an older commit's, to show a test fails there). */
export const BINARY = process.env.AUTOBOOTSTRAP_BINARY ?? join(import.meta.dir, '../../dist/autobootstrap');

export interface LogLine {
  level: string;
  msg: string;
  event?: string;
  [key: string]: unknown;
}

/** Settings that keep end-to-end runs short; every test pins addresses so nothing real is ever scanned. */
export const FAST_ENV: Record<string, string> = {
  LOG_LEVEL: 'info',
  TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '1s',
  TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: '500ms',
  TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '1s',
  TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '800ms',
  TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: '2s',
  TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: '0s',
  // The chosen node repeats a Bootstrap lost in a reboot after this (5m by default).
  TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: '3s',
};

/**
 * A test daemon's environment, pinned to loopback: its own address, its subnet's /24 to scan, the named peers
 * and only the scan and static sources, so nothing ever detects or scans a real interface's network.
 */
export function loopbackDaemonEnv(o: { quorum: number; nodeIp: string; subnet: string; peers?: string[]; hostRoot?: string; localApid?: string }): Record<string, string> {
  return {
    ...FAST_ENV,
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: String(o.quorum),
    ...(o.hostRoot ? { TALOS_AUTO_BOOTSTRAP_HOST_ROOT: o.hostRoot } : {}),
    TALOS_AUTO_BOOTSTRAP_NODE_IP: o.nodeIp,
    // Every simulated node shares this host's 127.0.0.1; its own apid is reached at its own address.
    TALOS_AUTO_BOOTSTRAP_LOCAL_APID: o.localApid ?? o.nodeIp,
    TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: `${o.subnet}.0/24`,
    ...(o.peers?.length ? { TALOS_AUTO_BOOTSTRAP_PEERS: o.peers.join(',') } : {}),
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'scan,static',
    // The agreement's state: the default, <host root>/var/lib/autobootstrap, one directory per node that a
    // restarted daemon finds again. The host root's host/proc/1/mountinfo (test/sim/host-root.ts) has EPHEMERAL
    // (xfs) on /var, so the daemon's placement check passes as on a booted node. Without a host root the
    // daemon runs in its container, where the spec's mount serves the same path.
  };
}

export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  /** Every stdout line exactly as printed (the secret scan reads these, not the parsed lines). */
  readonly rawLines: string[] = [];
  /** Every byte of stdout and stderr, for the secret scan's raw-bytes check. */
  private readonly bytes: { stdout: Uint8Array[]; stderr: Uint8Array[] } = { stdout: [], stderr: [] };
  readonly exited: Promise<number>;
  /** Both streams read to their end (after exit). */
  readonly drained: Promise<void>;
  private readonly proc: Subprocess<'ignore', 'pipe', 'pipe'>;
  private waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  private listeners: ((l: LogLine) => void)[] = [];

  /** `command` replaces `dist/autobootstrap run`, e.g. to start the binary inside its extension root. */
  constructor(
    readonly name: string,
    env: Record<string, string>,
    command: string[] = [BINARY, 'run'],
  ) {
    if (command[0] === BINARY && !existsSync(BINARY)) throw new Error(`${BINARY} is missing: run make build first`);
    this.proc = spawn(command, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    const out = this.pump(this.proc.stdout, this.bytes.stdout, (line) => {
      this.rawLines.push(line);
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        parsed = { level: 'raw', msg: line };
      }
      this.lines.push(parsed);
      if (process.env.E2E_VERBOSE) console.log(`[${name}] ${parsed.level} ${parsed.msg}`);
      for (const listener of this.listeners) listener(parsed);
      this.waiters = this.waiters.filter((w) => (w.pred(parsed) ? (w.resolve(parsed), false) : true));
    });
    const err = this.pump(this.proc.stderr, this.bytes.stderr, (line) => this.stderr.push(line));
    this.drained = Promise.all([out, err]).then(() => undefined);
    this.exited = this.proc.exited;
  }

  private async pump(stream: ReadableStream<Uint8Array>, keep: Uint8Array[], onLine: (line: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of stream) {
      keep.push(chunk);
      buffered += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim()) onLine(line);
      }
    }
    if (buffered.trim()) onLine(buffered);
  }

  /** Everything it printed, for the secret scan: each line as text, and each stream's bytes as latin1. */
  outputLines(): OutputLine[] {
    return [
      ...linesOf(`${this.name} daemon stdout`, this.rawLines),
      ...linesOf(`${this.name} daemon stderr`, this.stderr),
      ...linesOf(`${this.name} daemon stdout bytes`, [Buffer.concat(this.bytes.stdout).toString('latin1')]),
      ...linesOf(`${this.name} daemon stderr bytes`, [Buffer.concat(this.bytes.stderr).toString('latin1')]),
    ];
  }

  /** Calls listener for every log line from now on. */
  onLine(listener: (l: LogLine) => void): void {
    this.listeners.push(listener);
  }

  /** The first log line (past or future) matching pred; rejects after timeoutMs. */
  waitFor(pred: (l: LogLine) => boolean, timeoutMs: number, what = 'log line'): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${what} within ${timeoutMs}ms; last lines:\n${this.tail()}`)), timeoutMs);
      this.waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  }

  async exitWithin(timeoutMs: number): Promise<number> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name}: did not exit within ${timeoutMs}ms; last lines:\n${this.tail()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  get pid(): number {
    return this.proc.pid;
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.proc.kill(signal);
  }

  events(event: string): LogLine[] {
    return this.lines.filter((l) => l.event === event);
  }

  tail(n = 15): string {
    return this.lines
      .slice(-n)
      .map((l) => `  ${l.level} ${l.msg}`)
      .concat(this.stderr.slice(-5).map((s) => `  stderr ${s}`))
      .join('\n');
  }
}
