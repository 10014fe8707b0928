// make simulate's command line: --help prints the usage; an unknown flag or a bad value is refused (exit 2)
// with one line naming it, instead of being ignored while 10,000 schedules run.
import { expect, test } from 'bun:test';
import { join } from 'node:path';

const RUN = join(import.meta.dir, 'run.ts');
function run(...args: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync([process.execPath, RUN, ...args], { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

test('--help prints the usage and runs nothing', () => {
  const r = run('--help');
  expect(r.code).toBe(0);
  expect(r.out).toContain('usage: bun test/simulation/run.ts');
  expect(r.out).not.toContain('failures:');
});

test('an unknown flag is refused with exit 2 and a line naming it', () => {
  const r = run('--sedes', '5');
  expect(r.code).toBe(2);
  expect(r.err).toContain('unknown argument --sedes');
  expect(r.out).toBe('');
});

test('a flag without a number is refused', () => {
  const r = run('--seeds');
  expect(r.code).toBe(2);
  expect(r.err).toContain('--seeds needs a whole number');
});

test('known flags still run', () => {
  const r = run('--seeds', '3', '--first', '7');
  expect(r.code).toBe(0);
  expect(r.out).toContain('3 schedules (correct, seeds 7..9)');
});
