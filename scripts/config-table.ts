// Rewrites the generated variable table in docs/configuration.md from the schema in src/config.ts.
//   bun scripts/config-table.ts          (test/unit/config-help.test.ts fails while the committed table is stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_TABLE_PATH, withFreshTable } from '../src/config-help.ts';

const path = join(import.meta.dir, '..', CONFIG_TABLE_PATH);
const before = readFileSync(path, 'utf8');
const after = withFreshTable(before);
if (after !== before) writeFileSync(path, after);
process.stdout.write(`${CONFIG_TABLE_PATH}: ${after === before ? 'already current' : 'table regenerated'}\n`);
