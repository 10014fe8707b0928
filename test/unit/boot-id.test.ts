// The kernel's boot_id names one boot: read from the first /proc that has a well-formed one.
import { afterEach, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBootId } from '../../src/host/boot-id.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function proc(bootId?: string): string {
  const d = mkdtempSync(join(tmpdir(), 'boot-id-'));
  dirs.push(d);
  if (bootId !== undefined) {
    mkdirSync(join(d, 'sys/kernel/random'), { recursive: true });
    writeFileSync(join(d, 'sys/kernel/random/boot_id'), bootId);
  }
  return d;
}

test('the first well-formed boot_id wins; a missing or malformed one is skipped; none gives undefined', () => {
  const id = '0b6e3c2a-1f4d-4c1e-9a51-3f2f7d8e9a10';
  expect(readBootId([proc(`${id}\n`)])).toBe(id);
  expect(readBootId([proc(), proc('not-a-uuid\n'), proc(`${id}\n`)])).toBe(id);
  expect(readBootId([proc(), proc('')])).toBeUndefined();
});

test("this machine's own boot_id reads as one", () => {
  expect(readBootId(['/proc'])).toMatch(/^[0-9a-f-]{36}$/);
});
