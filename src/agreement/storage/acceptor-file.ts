// The acceptor's durable state on disk: one small JSON file, replaced atomically (write a temp file, fsync
// it, rename it over the old one, fsync the directory), so a crash at any point leaves either the old or
// the new state, never a mix. The runtime calls save() BEFORE sending the replies that depend on it.
//
// A state file that once existed must never silently become a fresh start, or an acceptor could forget a
// promise and two values could be chosen. Three checks, and their limits (docs/agreement.md):
// - a marker file, written and fsynced right after the first state file and before any reply leaves:
//   marker without state = state lost;
// - a SHA-256 checksum over the content: a torn or edited file = corrupt;
// - the node identity and cluster recorded in the file: a file from another node or cluster = foreign.
// Wiping the whole directory (a reset that wipes EPHEMERAL) removes the marker too and cannot be detected
// here; that is the documented assumption "nobody resets a node during the first bootstrap".
import { createHash } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import type { DurableState } from '../core/state.ts';

export const STATE_FILE = 'acceptor.json';
export const MARKER_FILE = 'acceptor.created';
const FORMAT_VERSION = 1;

/** The file operations used, so tests can record their order or fail one of them. */
export interface FsOps {
  writeFileSync(path: string, data: string): void;
  readFileSync(path: string, encoding: 'utf8'): string;
  existsSync(path: string): boolean;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string, opts: { recursive: true; mode: number }): void;
  /** fsync of a file or a directory. */
  fsyncPath(path: string): void;
}

export const REAL_FS: FsOps = {
  writeFileSync: (p, d) => nodeFs.writeFileSync(p, d, { mode: 0o600 }),
  readFileSync: (p, e) => nodeFs.readFileSync(p, e),
  existsSync: (p) => nodeFs.existsSync(p),
  renameSync: (a, b) => nodeFs.renameSync(a, b),
  unlinkSync: (p) => nodeFs.unlinkSync(p),
  mkdirSync: (p, o) => void nodeFs.mkdirSync(p, o),
  fsyncPath: (p) => {
    const fd = nodeFs.openSync(p, 'r');
    try {
      nodeFs.fsyncSync(fd);
    } finally {
      nodeFs.closeSync(fd);
    }
  },
};

export type StateErrorKind = 'missing' | 'corrupt' | 'foreign' | 'io';

/** The state directory cannot be trusted; `recovery` says what an operator does about it. */
export class AcceptorStateError extends Error {
  constructor(
    readonly kind: StateErrorKind,
    readonly path: string,
    message: string,
    readonly recovery: string,
  ) {
    super(`${message}; ${recovery}`);
    this.name = 'AcceptorStateError';
  }
}

function recoveryText(dir: string): string {
  return (
    `never start this node's agreement afresh by itself. Recovery: if any control plane runs etcd (talosctl -n <node> service etcd), ` +
    `the cluster is bootstrapped and this state is no longer needed: remove ${dir} on this node and restart ext-autobootstrap. ` +
    `If none does: restore the file from a backup, or start the agreement over on every control plane at once ` +
    `(reboot every control plane so no accepted Bootstrap survives in memory, and remove ${dir} on all of them before their daemons start)`
  );
}

interface FileContent {
  version: number;
  node: string;
  clusterId: string;
  generation: number;
  durable: SerialDurable;
}

interface SerialDurable {
  promised: { round: number; proposer: string } | null;
  accepted: { ballot: { round: number; proposer: string }; value: string } | null;
  chosen: string | null;
  chosenAtMs: number | null;
  bootstrapIssued: boolean;
  /** Added after the first release of format 1; a file without it loads as 0 (no quorum error recorded). */
  maxSeen?: number;
  /** Added later still; a file without it loads as "no Bootstrap known accepted" (the re-issue delay alone rules). */
  acceptedBootId?: string;
}

function checksum(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

function toSerial(d: DurableState): SerialDurable {
  return { promised: d.promised ?? null, accepted: d.accepted ?? null, chosen: d.chosen ?? null, chosenAtMs: d.chosenAtMs ?? null, bootstrapIssued: d.bootstrapIssued, maxSeen: d.maxSeen ?? 0, ...(d.acceptedBootId === undefined ? {} : { acceptedBootId: d.acceptedBootId }) };
}

function isBallot(x: unknown): x is { round: number; proposer: string } {
  const b = x as { round?: unknown; proposer?: unknown };
  return typeof x === 'object' && x !== null && Number.isSafeInteger(b.round) && (b.round as number) >= 1 && typeof b.proposer === 'string' && b.proposer !== '';
}

function fromSerial(s: SerialDurable): DurableState | undefined {
  if (s.promised !== null && !isBallot(s.promised)) return undefined;
  if (s.accepted !== null && (!isBallot(s.accepted?.ballot) || typeof s.accepted?.value !== 'string')) return undefined;
  if (s.chosen !== null && typeof s.chosen !== 'string') return undefined;
  if (s.chosenAtMs !== null && typeof s.chosenAtMs !== 'number') return undefined;
  if (typeof s.bootstrapIssued !== 'boolean') return undefined;
  if (s.maxSeen !== undefined && !(Number.isSafeInteger(s.maxSeen) && s.maxSeen >= 0)) return undefined;
  if (s.acceptedBootId !== undefined && (typeof s.acceptedBootId !== 'string' || s.acceptedBootId === '')) return undefined;
  const durable: DurableState = { promised: s.promised ?? undefined, accepted: s.accepted ?? undefined, chosen: s.chosen ?? undefined, chosenAtMs: s.chosenAtMs ?? undefined, bootstrapIssued: s.bootstrapIssued };
  const withSeen = s.maxSeen ? { ...durable, maxSeen: s.maxSeen } : durable;
  return s.acceptedBootId === undefined ? withSeen : { ...withSeen, acceptedBootId: s.acceptedBootId };
}

/**
 * One node's acceptor state under `dir` (on a node: /var/lib/autobootstrap, the EPHEMERAL partition).
 * load() throws AcceptorStateError when the state once existed and is now missing, corrupt or foreign;
 * save() throws on any I/O error (the caller must then NOT send the replies).
 */
export class AcceptorFile {
  private generation = 0;
  private readonly statePath: string;
  private readonly markerPath: string;

  constructor(
    readonly dir: string,
    private readonly node: string,
    private readonly clusterId: string,
    private readonly fs: FsOps = REAL_FS,
  ) {
    this.statePath = join(dir, STATE_FILE);
    this.markerPath = join(dir, MARKER_FILE);
  }

  /** The durable state, or undefined on a first start (no marker, no file). */
  load(): DurableState | undefined {
    const { fs } = this;
    try {
      fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new AcceptorStateError('io', this.dir, `cannot create the agreement state directory ${this.dir}: ${String(e)}`, 'check the service spec mounts it read-write');
    }
    const hasMarker = fs.existsSync(this.markerPath);
    const hasState = fs.existsSync(this.statePath);
    if (!hasMarker && !hasState) return undefined;
    if (!hasState) {
      throw new AcceptorStateError('missing', this.statePath, `agreement state ${this.statePath} is missing, but ${this.markerPath} shows it existed`, recoveryText(this.dir));
    }
    let text: string;
    try {
      text = fs.readFileSync(this.statePath, 'utf8');
    } catch (e) {
      throw new AcceptorStateError('io', this.statePath, `cannot read agreement state ${this.statePath}: ${String(e)}`, recoveryText(this.dir));
    }
    const corrupt = (why: string) => new AcceptorStateError('corrupt', this.statePath, `agreement state ${this.statePath} is corrupt (${why})`, recoveryText(this.dir));
    let outer: { checksum?: unknown; body?: unknown };
    try {
      outer = JSON.parse(text);
    } catch {
      throw corrupt('not JSON');
    }
    if (typeof outer.body !== 'string' || typeof outer.checksum !== 'string') throw corrupt('no body or checksum');
    if (checksum(outer.body) !== outer.checksum) throw corrupt('checksum mismatch');
    let content: FileContent;
    try {
      content = JSON.parse(outer.body);
    } catch {
      throw corrupt('body is not JSON');
    }
    if (content.version !== FORMAT_VERSION) throw corrupt(`format version ${String(content.version)}, expected ${FORMAT_VERSION}`);
    if (content.node !== this.node || content.clusterId !== this.clusterId) {
      throw new AcceptorStateError(
        'foreign',
        this.statePath,
        `agreement state ${this.statePath} belongs to node ${content.node} of cluster ${content.clusterId}, not to this node ${this.node} of cluster ${this.clusterId}`,
        recoveryText(this.dir),
      );
    }
    const durable = content.durable ? fromSerial(content.durable) : undefined;
    if (!durable) throw corrupt('fields have the wrong shape');
    this.generation = Number.isSafeInteger(content.generation) ? content.generation : 0;
    return durable;
  }

  /** Replaces the state atomically and durably. Throws on any I/O error. */
  save(durable: DurableState): void {
    const { fs } = this;
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.generation++;
    const body = JSON.stringify({ version: FORMAT_VERSION, node: this.node, clusterId: this.clusterId, generation: this.generation, durable: toSerial(durable) } satisfies FileContent);
    const tmp = `${this.statePath}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify({ checksum: checksum(body), body })}\n`);
    fs.fsyncPath(tmp);
    fs.renameSync(tmp, this.statePath);
    fs.fsyncPath(this.dir);
    if (!fs.existsSync(this.markerPath)) {
      // After the first state file (a crash between the two leaves a state without marker, which loads
      // and gets its marker here) and before any reply leaves: from now on a missing state file is an
      // error, never a fresh start.
      fs.writeFileSync(this.markerPath, `${JSON.stringify({ node: this.node, clusterId: this.clusterId, createdAt: new Date().toISOString() })}\n`);
      fs.fsyncPath(this.markerPath);
      fs.fsyncPath(this.dir);
    }
  }
}
