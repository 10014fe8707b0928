// The machine configs the demo's nodes hold. With Talos's own generator built (`make oracle`, which needs
// Go >= 1.26.5 and is part of `make test`), they are what talosctl gen config writes, for the v1.13 contract the
// simulated nodes report. Without it the simulator renders its own (test/sim/machine-config.ts): `make demo`
// needs nothing but Node's packages, so a first run never needs Go. The demo says which it used.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_DIR, generatedConfig } from '../test/oracle/harness.ts';
import type { TalosGeneratedConfigs } from '../test/sim/talos-configs.ts';

export interface DemoConfigs {
  /** Undefined: the simulator renders the configs itself. */
  talosConfigs: TalosGeneratedConfigs | undefined;
  /** One line for the demo's header. */
  source: string;
}

export function demoTalosConfigs(): DemoConfigs {
  if (!existsSync(join(CONFIG_DIR, 'index.json'))) {
    return { talosConfigs: undefined, source: "machine configs: the simulator's own rendering (after `make oracle`, which needs Go, Talos's own generator's)" };
  }
  return {
    talosConfigs: { controlplane: generatedConfig('v1.13', 'controlplane').text, worker: generatedConfig('v1.13', 'worker').text },
    source: "machine configs: Talos's own generator's (build/oracle, talosctl gen config for v1.13)",
  };
}
