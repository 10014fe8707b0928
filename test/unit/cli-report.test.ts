// Progress on a terminal redraws one line per node in place; elsewhere it is plain timestamped lines.
import { expect, test } from 'bun:test';
import { Progress, table, type Io } from '../../src/cli/report.ts';

function fakeIo(tty: boolean): Io & { errText: () => string } {
  let err = '';
  return { out: () => {}, err: (t) => void (err += t), tty, now: () => new Date('2026-01-02T03:04:05.000Z'), errText: () => err };
}

test('not a terminal: one timestamped line per change, repeats dropped', () => {
  const io = fakeIo(false);
  const p = new Progress(io, ['cp1', 'w1']);
  p.update('cp1', 'applying');
  p.update('cp1', 'applying');
  p.update('w1', 'configured');
  p.note('all done');
  expect(io.errText()).toBe('2026-01-02T03:04:05.000Z cp1: applying\n2026-01-02T03:04:05.000Z w1: configured\n2026-01-02T03:04:05.000Z all done\n');
});

test('a terminal: every node keeps its own line, redrawn in place', () => {
  const io = fakeIo(true);
  const p = new Progress(io, ['cp1', 'w1']);
  p.update('cp1', 'applying');
  const text = io.errText();
  expect(text).toContain('\x1b[2A\x1b[J'); // moved up over the two node lines, cleared them
  expect(text.endsWith('\x1b[2K  cp1   applying\n\x1b[2K  w1    waiting\n')).toBe(true);
  expect(text).not.toContain('2026-');
});

test('table pads columns to the widest cell', () => {
  expect(table(['A', 'BB'], [['xxx', 'y'], ['z', '']])).toBe('A    BB\nxxx  y\nz\n');
});
