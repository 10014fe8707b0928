// A deliberately leaky build of the daemon, for test/e2e/secret-leak.test.ts only: before starting the real
// entry point, it logs the machine config it parsed, the kind of debug line a developer adds while chasing a
// parsing bug. The secret scan must fail on this binary's output; it is compiled apart (never by make build).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { createLogger } from '../../../src/log.ts';

const root = process.env.TALOS_AUTO_BOOTSTRAP_HOST_ROOT ?? '/';
try {
  const text = readFileSync(join(root, 'system/state/config.yaml'), 'utf8');
  const parsed = parseAllDocuments(text).map((d) => d.toJS() as unknown);
  createLogger('info').info({ parsed }, 'debug: parsed machine config');
} catch {
  // No config at that path: nothing to leak, the daemon reports it as usual.
}
await import('../../../src/main.ts');
