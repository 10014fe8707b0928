// The agreement core's scenario scripts (test/unit/agreement-scripts/*.txt): each command's output must be
// exactly what the file says. AGREEMENT_SCRIPTS_REWRITE=1 rewrites them from the current behaviour.
import { describe, expect, test } from 'bun:test';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runScript } from './agreement-script.ts';

const DIR = join(import.meta.dir, 'agreement-scripts');

describe('agreement scripts', () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort()) {
    test(file, () => {
      const path = join(DIR, file);
      const text = readFileSync(path, 'utf8');
      const actual = runScript(text);
      if (process.env.AGREEMENT_SCRIPTS_REWRITE === '1') writeFileSync(path, actual);
      else expect(actual).toBe(text);
    });
  }
});
