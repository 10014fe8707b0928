// One sentence for a source's failure. PkiError messages are written to carry no key material; any other
// error is reduced to its name and code, which cannot echo the config.
import { PkiError } from '../pki/pem.ts';

export function describeFailure(e: unknown): string {
  if (e instanceof PkiError) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  return e instanceof Error ? `${e.name}${code ? ` (${code})` : ''}: ${e.message.split('\n')[0]?.slice(0, 200)}` : String(e);
}
