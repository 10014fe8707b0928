// The Talos-generated clusters the simulator serves by default: `make oracle` runs test/oracle's
// `oracle sim-clusters` once per build (not per test) and writes build/oracle/sim-clusters/<name>/
// {controlplane,worker}.yaml, one secrets bundle per cluster, as separate `talosctl gen config` runs would.
// The simulator's n-th cluster group is served the n-th of them, so groups that must not trust each other
// (another cluster's OS CA) get different CAs. A missing build is an error naming the make target.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { TalosGeneratedConfigs } from './talos-configs.ts';

export const SIM_CLUSTERS_DIR = join(resolve(import.meta.dir, '../..'), 'build/oracle/sim-clusters');

let cached: TalosGeneratedConfigs[] | undefined;

/** Every generated cluster, read once per process. Throws when `make oracle` has not written them. */
export function generatedClusters(): TalosGeneratedConfigs[] {
  if (cached) return cached;
  const index = join(SIM_CLUSTERS_DIR, 'index.json');
  if (!existsSync(index)) {
    throw new Error(
      `${index} is missing: the simulator serves Talos-generated machine configs; run \`make oracle\` first (it needs Go >= 1.26.5, see test/oracle/README.md), or start it with renderedConfigs: true`,
    );
  }
  const names = JSON.parse(readFileSync(index, 'utf8')) as string[];
  cached = names.map((n) => ({
    controlplane: readFileSync(join(SIM_CLUSTERS_DIR, n, 'controlplane.yaml'), 'utf8'),
    worker: readFileSync(join(SIM_CLUSTERS_DIR, n, 'worker.yaml'), 'utf8'),
  }));
  return cached;
}

/** The generated cluster of the simulator's `index`-th cluster group (0-based). Throws when there are too few. */
export function generatedCluster(index: number): TalosGeneratedConfigs {
  const all = generatedClusters();
  const c = all[index];
  if (!c) throw new Error(`the simulator has ${all.length} Talos-generated clusters (build/oracle/sim-clusters); cluster group ${index + 1} needs one more: raise SIM_CLUSTERS in the Makefile`);
  return c;
}
