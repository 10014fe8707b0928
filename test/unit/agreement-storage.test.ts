// The acceptor's state file: atomic, durable replacement in the right order, and a state that once existed
// is never silently replaced by a fresh start.
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurableState } from '../../src/agreement/core/state.ts';
import { AcceptorFile, AcceptorStateError, MARKER_FILE, REAL_FS, STATE_FILE, type FsOps } from '../../src/agreement/storage/acceptor-file.ts';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'agreement-state-'));
  dirs.push(d);
  return join(d, 'var-lib-autobootstrap');
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const PROMISED: DurableState = { promised: { round: 3, proposer: 'node-b' }, accepted: undefined, chosen: undefined, chosenAtMs: undefined, bootstrapIssued: false };
const ACCEPTED: DurableState = { promised: { round: 4, proposer: 'node-a' }, accepted: { ballot: { round: 4, proposer: 'node-a' }, value: 'node-a' }, chosen: 'node-a', chosenAtMs: 1_700_000_000_000, bootstrapIssued: true };

function errorKind(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (e instanceof AcceptorStateError) return e.kind;
    throw e;
  }
  return undefined;
}

describe('acceptor state file', () => {
  test('a first start has no state; what was saved loads back in a new process', () => {
    const dir = freshDir();
    expect(new AcceptorFile(dir, 'node-a', 'c1').load()).toBeUndefined();
    const f = new AcceptorFile(dir, 'node-a', 'c1');
    f.save(PROMISED);
    f.save(ACCEPTED);
    expect(new AcceptorFile(dir, 'node-a', 'c1').load()).toEqual(ACCEPTED);
  });

  test('the boot in which Talos accepted the Bootstrap loads back; a file written without it loads without it', () => {
    const dir = freshDir();
    const f = new AcceptorFile(dir, 'node-a', 'c1');
    f.save(ACCEPTED);
    expect(new AcceptorFile(dir, 'node-a', 'c1').load()?.acceptedBootId).toBeUndefined();
    f.save({ ...ACCEPTED, acceptedBootId: '0b6e3c2a-1f4d-4c1e-9a51-3f2f7d8e9a10' });
    expect(new AcceptorFile(dir, 'node-a', 'c1').load()).toEqual({ ...ACCEPTED, acceptedBootId: '0b6e3c2a-1f4d-4c1e-9a51-3f2f7d8e9a10' });
  });

  test('write temp, fsync it, rename, fsync the directory; the marker after the first state and before returning', () => {
    const dir = freshDir();
    const ops: string[] = [];
    const rec: FsOps = {
      ...REAL_FS,
      writeFileSync: (p, d) => (ops.push(`write ${p.slice(dir.length + 1) || '.'}`), REAL_FS.writeFileSync(p, d)),
      renameSync: (a, b) => (ops.push(`rename ${a.slice(dir.length + 1)} ${b.slice(dir.length + 1)}`), REAL_FS.renameSync(a, b)),
      fsyncPath: (p) => (ops.push(`fsync ${p.slice(dir.length + 1) || '.'}`), REAL_FS.fsyncPath(p)),
    };
    const f = new AcceptorFile(dir, 'node-a', 'c1', rec);
    f.load();
    f.save(PROMISED);
    f.save(ACCEPTED);
    expect(ops).toEqual([
      `write ${STATE_FILE}.tmp`, `fsync ${STATE_FILE}.tmp`, `rename ${STATE_FILE}.tmp ${STATE_FILE}`, 'fsync .',
      `write ${MARKER_FILE}`, `fsync ${MARKER_FILE}`, 'fsync .',
      `write ${STATE_FILE}.tmp`, `fsync ${STATE_FILE}.tmp`, `rename ${STATE_FILE}.tmp ${STATE_FILE}`, 'fsync .',
    ]);
  });

  test('a crash before the rename leaves the previous state (the temp file is ignored)', () => {
    const dir = freshDir();
    new AcceptorFile(dir, 'node-a', 'c1').save(PROMISED);
    const failing: FsOps = { ...REAL_FS, renameSync: () => { throw new Error('crash'); } };
    expect(() => new AcceptorFile(dir, 'node-a', 'c1', failing).save(ACCEPTED)).toThrow('crash');
    expect(new AcceptorFile(dir, 'node-a', 'c1').load()).toEqual(PROMISED);
  });

  test('a crash between the first state file and its marker loads the state (and the next save writes the marker)', () => {
    const dir = freshDir();
    const noMarker: FsOps = { ...REAL_FS, writeFileSync: (p, d) => { if (p.endsWith(MARKER_FILE)) throw new Error('crash'); REAL_FS.writeFileSync(p, d); } };
    expect(() => new AcceptorFile(dir, 'node-a', 'c1', noMarker).save(PROMISED)).toThrow('crash');
    const f = new AcceptorFile(dir, 'node-a', 'c1');
    expect(f.load()).toEqual(PROMISED);
    f.save(PROMISED);
    unlinkSync(join(dir, STATE_FILE));
    expect(errorKind(() => new AcceptorFile(dir, 'node-a', 'c1').load())).toBe('missing');
  });

  test('a state file that existed and is gone is an error with the recovery, never a fresh start', () => {
    const dir = freshDir();
    new AcceptorFile(dir, 'node-a', 'c1').save(PROMISED);
    unlinkSync(join(dir, STATE_FILE));
    let err: AcceptorStateError | undefined;
    try {
      new AcceptorFile(dir, 'node-a', 'c1').load();
    } catch (e) {
      err = e as AcceptorStateError;
    }
    expect(err?.kind).toBe('missing');
    expect(err?.message).toContain('never start this node\'s agreement afresh');
    expect(err?.message).toContain(`remove ${dir}`);
  });

  test('a changed byte, a truncated file, or garbage is corrupt', () => {
    const dir = freshDir();
    new AcceptorFile(dir, 'node-a', 'c1').save(ACCEPTED);
    const path = join(dir, STATE_FILE);
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.replace('"round\\":4', '"round\\":1'));
    expect(readFileSync(path, 'utf8')).not.toBe(good);
    expect(errorKind(() => new AcceptorFile(dir, 'node-a', 'c1').load())).toBe('corrupt');
    writeFileSync(path, good.slice(0, good.length / 2));
    expect(errorKind(() => new AcceptorFile(dir, 'node-a', 'c1').load())).toBe('corrupt');
    writeFileSync(path, '');
    expect(errorKind(() => new AcceptorFile(dir, 'node-a', 'c1').load())).toBe('corrupt');
    writeFileSync(path, good);
    expect(new AcceptorFile(dir, 'node-a', 'c1').load()).toEqual(ACCEPTED);
  });

  test('a state file of another node or another cluster is refused', () => {
    const dir = freshDir();
    new AcceptorFile(dir, 'node-a', 'c1').save(ACCEPTED);
    expect(errorKind(() => new AcceptorFile(dir, 'node-b', 'c1').load())).toBe('foreign');
    expect(errorKind(() => new AcceptorFile(dir, 'node-a', 'c2').load())).toBe('foreign');
  });
});
