// A credential source: one place the machine config (or the OS CA itself) can be read from on a Talos
// node. Each says either what it read or, in one sentence, why it could not — the daemon logs every
// skipped source with that reason, so an operator sees why the one used was used.
import type { CaSource } from '../config.ts';
import type { HostPaths } from '../host/paths.ts';
import type { MountSyscalls } from '../host/mount/syscalls.ts';
import type { MachineConfigFacts } from '../pki/machine-config.ts';

/** In the order `auto` tries them: cheapest and least intrusive first. */
export const SOURCE_NAMES = ['state-file', 'state-partition', 'luks-mapping', 'machined-socket'] as const;
export type SourceName = (typeof SOURCE_NAMES)[number];

/** `state` means anything read from the STATE partition (sources 1–3); `socket` only machined's socket. */
export function sourcesFor(choice: CaSource): SourceName[] {
  switch (choice) {
    case 'auto':
      return [...SOURCE_NAMES];
    case 'state':
      return ['state-file', 'state-partition', 'luks-mapping'];
    case 'socket':
      return ['machined-socket'];
  }
}

export type SourceOutcome = { ok: true; facts: MachineConfigFacts; from: string } | { ok: false; reason: string };

export interface SourceContext {
  paths: HostPaths;
  sys: MountSyscalls;
  sleep: (ms: number) => Promise<void>;
  /** Aborted on SIGTERM: no further source is tried and no further mount attempted. */
  signal: AbortSignal;
  random: () => number;
  /** Summed retry delays allowed for a busy STATE mount. */
  mountRetryBudgetMs: number;
  socketDeadlineMs: number;
  /** Progress worth a log line while a source works: a busy retry (info), something left behind (error). */
  note: (event: string, message: string, fields?: Record<string, unknown>, level?: 'info' | 'error') => void;
}

export type CredentialSource = (ctx: SourceContext) => Promise<SourceOutcome>;
