// Where the daemon reads the machine config from. This version reads system/state/config.yaml, which
// Talos up to v1.11 keeps mounted (the service spec binds it); mounting STATE and machined's socket are
// the other sources named by TALOS_AUTO_BOOTSTRAP_CA_SOURCE and are not part of this version.
import { readFileSync } from 'node:fs';
import type { CaSource } from './config.ts';
import type { HostPaths } from './host/paths.ts';
import { parseMachineConfig, type MachineConfigFacts } from './pki/machine-config.ts';

export type ConfigRead = { ok: true; facts: MachineConfigFacts; source: string } | { ok: false; reasons: string[] };

export function readMachineConfig(paths: HostPaths, caSource: CaSource): ConfigRead {
  const reasons: string[] = [];
  if (caSource === 'socket') {
    return { ok: false, reasons: [`socket: reading the CA over ${paths.machinedSocket} is not supported by this version; use TALOS_AUTO_BOOTSTRAP_CA_SOURCE=auto or state`] };
  }
  let text: string;
  try {
    text = readFileSync(paths.stateConfig, 'utf8');
  } catch (e) {
    reasons.push(`state: cannot read ${paths.stateConfig}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return { ok: false, reasons };
  }
  try {
    return { ok: true, facts: parseMachineConfig(text), source: paths.stateConfig };
  } catch (e) {
    reasons.push(`state: ${paths.stateConfig}: ${e instanceof Error ? e.message : String(e)}`);
    return { ok: false, reasons };
  }
}
