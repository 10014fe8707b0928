// Progress on a terminal redraws one line per node in place; elsewhere it is plain timestamped lines.
import { expect, test } from 'bun:test';
import { Progress, table, type Io } from '../../src/cli/render/report.ts';

function fakeIo(tty: boolean): Io & { errText: () => string } {
  let err = '';
  return { out: () => {}, err: (t) => void (err += t), tty, now: () => new Date('2026-01-02T03:04:05.000Z'), errText: () => err };
}

const node = (name: string) => ({ name, address: `10.0.0.${name.startsWith('w') ? 10 + Number(name.slice(1)) : Number(name.slice(2))}` });

test('not a terminal: one timestamped line per change, repeats dropped', () => {
  const io = fakeIo(false);
  const p = new Progress(io, [node('cp1'), node('w1')]);
  p.update('10.0.0.1', 'applying');
  p.update('10.0.0.1', 'applying');
  p.update('10.0.0.11', 'configured');
  p.note('all done');
  expect(io.errText()).toBe('2026-01-02T03:04:05.000Z cp1: applying\n2026-01-02T03:04:05.000Z w1: configured\n2026-01-02T03:04:05.000Z all done\n');
});

test('a terminal: every node keeps its own line, redrawn in place', () => {
  const io = fakeIo(true);
  const p = new Progress(io, [node('cp1'), node('w1')]);
  p.update('10.0.0.1', 'applying');
  const text = io.errText();
  expect(text).toContain('\x1b[2A\x1b[J'); // moved up over the two node lines, cleared them
  expect(text.endsWith('\x1b[2K  cp1   applying\n\x1b[2K  w1    waiting\n')).toBe(true);
  expect(text).not.toContain('2026-');
});

test('two addresses under one name (talhelper --nodes=a,b with one file) keep a line each, told apart by address', () => {
  const io = fakeIo(false);
  const p = new Progress(io, [
    { name: 'worker', address: '10.0.0.21' },
    { name: 'worker', address: '10.0.0.22' },
    { name: 'cp1', address: '10.0.0.1' },
  ]);
  p.update('10.0.0.21', 'applying');
  p.update('10.0.0.22', 'applying');
  expect(io.errText()).toBe('2026-01-02T03:04:05.000Z worker (10.0.0.21): applying\n2026-01-02T03:04:05.000Z worker (10.0.0.22): applying\n');
  const tty = fakeIo(true);
  const t = new Progress(tty, [
    { name: 'worker', address: '10.0.0.21' },
    { name: 'worker', address: '10.0.0.22' },
  ]);
  t.update('10.0.0.22', 'configured');
  expect(tty.errText().endsWith('\x1b[2K  worker (10.0.0.21)  waiting\n\x1b[2K  worker (10.0.0.22)  configured\n')).toBe(true);
});

test('table pads columns to the widest cell', () => {
  expect(table(['A', 'BB'], [['xxx', 'y'], ['z', '']])).toBe('A    BB\nxxx  y\nz\n');
});
