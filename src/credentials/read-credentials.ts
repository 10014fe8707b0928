// Tries the credential sources TALOS_AUTO_BOOTSTRAP_CA_SOURCE allows, in order, until one yields the
// machine config; keeps every earlier source's reason so the log can say why the one used was used,
// or, when none works, why each failed.
import type { CaSource } from '../config.ts';
import { describeFailure } from './describe.ts';
import { luksMapping } from './luks-mapping.ts';
import { machinedSocket } from './machined-socket.ts';
import { sourcesFor, type CredentialSource, type SourceContext, type SourceName } from './source.ts';
import { stateFile } from './state-file.ts';
import { statePartition } from './state-partition.ts';
import type { MachineConfigFacts } from '../pki/machine-config.ts';

export const SOURCES: Record<SourceName, CredentialSource> = {
  'state-file': stateFile,
  'state-partition': statePartition,
  'luks-mapping': luksMapping,
  'machined-socket': machinedSocket,
};

export interface SourceAttempt {
  source: SourceName;
  reason: string;
}

export type CredentialsRead =
  | { ok: true; facts: MachineConfigFacts; source: SourceName; from: string; skipped: SourceAttempt[] }
  | { ok: false; attempts: SourceAttempt[] };

export async function readCredentials(choice: CaSource, ctx: SourceContext, table: Record<SourceName, CredentialSource> = SOURCES): Promise<CredentialsRead> {
  const attempts: SourceAttempt[] = [];
  for (const source of sourcesFor(choice)) {
    if (ctx.signal.aborted) break;
    let out;
    try {
      // Progress lines name the source they belong to: they come before the summary of skipped sources.
      const note: SourceContext['note'] = (event, message, fields = {}, level) => ctx.note(event, `CA source ${source}: ${message}`, { source, ...fields }, level);
      out = await table[source]({ ...ctx, note });
    } catch (e) {
      // A source must answer with a reason; an exception is a bug, but it must not hide the other sources.
      out = { ok: false as const, reason: `unexpected failure: ${describeFailure(e)}` };
    }
    if (out.ok) return { ok: true, facts: out.facts, source, from: out.from, skipped: attempts };
    attempts.push({ source, reason: out.reason });
  }
  return { ok: false, attempts };
}
