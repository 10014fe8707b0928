// Where the tests find the oracle (test/oracle's Go program, built by `make oracle`) and its generated
// configs, and how they call it. A missing build is an error naming the make target, never a skip.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dir, '../..');
export const ORACLE_BIN = join(ROOT, 'build/oracle/oracle');
export const CONFIG_DIR = join(ROOT, 'build/oracle/configs');

/** One generated config and what the generator was given (test/oracle/gen.go, Expectation). */
export interface Generated {
  contract: string;
  file: string;
  machineType: 'controlplane' | 'worker';
  osCaCert: string;
  osCaKey: string;
  etcdCaCert: string;
  clusterName: string;
  kinds: string[];
}

function requireBuilt(path: string): void {
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`make oracle\` first (it needs Go >= 1.26.5; see test/oracle/README.md)`);
  }
}

/** Every generated config, with its absolute path. */
export function generatedConfigs(): (Generated & { path: string })[] {
  const index = join(CONFIG_DIR, 'index.json');
  requireBuilt(index);
  const list = JSON.parse(readFileSync(index, 'utf8')) as Generated[];
  return list.map((g) => ({ ...g, path: join(CONFIG_DIR, g.file) }));
}

export function generatedConfig(contract: string, machineType: 'controlplane' | 'worker'): Generated & { path: string; text: string } {
  const g = generatedConfigs().find((c) => c.contract === contract && c.machineType === machineType);
  if (!g) throw new Error(`no generated ${machineType} config for contract ${contract}`);
  return { ...g, text: readFileSync(g.path, 'utf8') };
}

/** Talos's verdict on one config (test/oracle/validate.go, Verdict). */
export interface TalosVerdict {
  file: string;
  stage: '' | 'read' | 'load' | 'validate';
  ok: boolean;
  errors: string[];
  warnings: string[];
}

/** Runs Talos's loader and validator on each file, in the mode a maintenance-mode metal node applies a config in. */
export function talosValidate(files: string[]): TalosVerdict[] {
  requireBuilt(ORACLE_BIN);
  const run = Bun.spawnSync([ORACLE_BIN, 'validate', ...files], { stdout: 'pipe', stderr: 'pipe' });
  if (run.exitCode !== 0) throw new Error(`oracle validate exited ${run.exitCode}: ${run.stderr.toString()}`);
  return run.stdout
    .toString()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TalosVerdict);
}
