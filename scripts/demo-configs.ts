// The machine configs the demo's nodes hold: Talos's own generator's (test/oracle gen, built by
// `make oracle`, which needs Go), for the v1.13 contract the simulated nodes report.
import { generatedConfig } from '../test/oracle/harness.ts';
import type { TalosGeneratedConfigs } from '../test/sim/talos-configs.ts';

export function demoTalosConfigs(): TalosGeneratedConfigs {
  return { controlplane: generatedConfig('v1.13', 'controlplane').text, worker: generatedConfig('v1.13', 'worker').text };
}
