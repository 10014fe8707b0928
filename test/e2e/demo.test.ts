// make demo, run as a test: both acts end with one cluster, and every line the demo, its daemons and its
// operator commands print passes the secret scan (scripts/demo.ts, scripts/demo-operator.ts).
import { expect, test } from 'bun:test';
import { join } from 'node:path';

test('the demo: exactly one cluster in both acts, no secret in anything printed', async () => {
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, '../../scripts/demo.ts')], { stdout: 'pipe', stderr: 'pipe' });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(err).toBe('');
  expect(out).toContain('exactly one cluster, bootstrapped exactly once.');
  expect(out).toMatch(/no secret in the \d+ lines printed \(demo and daemons\)\./);
  expect(out).toMatch(/no secret in the \d+ lines printed \(demo, commands, daemons\)\./);
  expect(code).toBe(0);
}, 240_000);
