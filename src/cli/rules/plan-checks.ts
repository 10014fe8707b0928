// Checks across the whole plan, before anything is applied: every control plane carries autobootstrap's
// ExtensionServiceConfig, every one is valid by the daemon's own validation (src/config.ts loadConfig, the
// same function `autobootstrap run` starts with), and all agree on the quorum. Pure: configs in, checks out.
//
// Why: a control plane without the document runs ext-autobootstrap without configuration, so the service
// waits (its spec depends on `configuration: true`) until Talos fails the boot after 70 minutes
// (BootTimeout) and reboots the node; control planes that disagree on QUORUM_NODES, or a quorum that is no
// majority of the control planes, let two groups each bootstrap their own etcd: a split brain.
import { loadConfig } from '../../config.ts';
import type { NodeConfig } from '../inputs/node-config.ts';

export const EXTENSION_NAME = 'autobootstrap';
const QUORUM = 'TALOS_AUTO_BOOTSTRAP_QUORUM_NODES';
const CONTROL_PLANES = 'TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES';

export interface PlanCheck {
  name: 'extension-config' | 'quorum-agreement' | 'quorum-majority' | 'same-node';
  result: 'pass' | 'fail' | 'warn';
  detail: string;
  fix?: string;
}

/** One control plane of the plan (one node: several addresses of one node count once). */
export interface PlanControlPlane {
  /** How to name it: its name and address. */
  node: string;
  config: NodeConfig;
}

const isMajority = (q: number, n: number) => q * 2 > n;

/** `K=V` lines into a map; later lines win, as in a process environment. */
export function environmentOf(lines: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of lines) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return env;
}

export function planChecks(controlPlanes: PlanControlPlane[]): PlanCheck[] {
  const checks: PlanCheck[] = [];
  if (controlPlanes.length === 0) return checks;
  const envs: { node: string; env: Record<string, string> }[] = [];
  for (const cp of controlPlanes) {
    const docs = cp.config.extensionServiceConfigs.filter((d) => d.name === EXTENSION_NAME);
    const doc = docs[0];
    if (!doc) {
      checks.push({
        name: 'extension-config',
        result: 'fail',
        detail: `${cp.node}: no "ExtensionServiceConfig" document named ${EXTENSION_NAME} in ${cp.config.path}: its ext-autobootstrap would wait for a configuration until Talos fails the boot (70 minutes) and reboots the node`,
        fix: `add the document to this control plane's config (apiVersion: v1alpha1, kind: ExtensionServiceConfig, name: ${EXTENSION_NAME}, environment: [${QUORUM}=N]), e.g. as a talhelper patch for every control plane`,
      });
      continue;
    }
    const env = environmentOf(doc.environment);
    const loaded = loadConfig(env);
    if (!loaded.ok) {
      for (const p of loaded.problems) {
        checks.push({
          name: 'extension-config',
          result: 'fail',
          detail: `${cp.node}: ${p.variable}${p.value !== undefined ? `=${p.value}` : ''}: ${p.problem}`,
          fix: 'fix the environment of its ExtensionServiceConfig: the daemon would refuse it and exit 2',
        });
      }
    } else {
      for (const w of loaded.warnings) checks.push({ name: 'extension-config', result: 'warn', detail: `${cp.node}: ${w.variable}: ${w.problem}` });
    }
    envs.push({ node: cp.node, env });
  }
  if (!checks.some((c) => c.result === 'fail')) {
    checks.push({ name: 'extension-config', result: 'pass', detail: `every control plane (${controlPlanes.length}) carries a valid ExtensionServiceConfig ${EXTENSION_NAME}` });
  }
  checks.push(...agreement(envs, QUORUM, true), ...agreement(envs, CONTROL_PLANES, false));
  checks.push(...majority(envs, controlPlanes.length));
  return checks;
}

/** Every control plane with the document says the same value (or, when `required` is false, none says any). */
function agreement(envs: { node: string; env: Record<string, string> }[], variable: string, required: boolean): PlanCheck[] {
  const values = new Map<string, string[]>();
  for (const { node, env } of envs) {
    const v = env[variable];
    if (v === undefined && !required) continue;
    const key = v ?? '(unset)';
    values.set(key, [...(values.get(key) ?? []), node]);
  }
  if (values.size === 0) return [];
  const unset = envs.filter((e) => e.env[variable] === undefined).map((e) => e.node);
  if (values.size === 1 && (required || unset.length === 0)) {
    return [{ name: 'quorum-agreement', result: 'pass', detail: `every control plane says ${variable}=${[...values.keys()][0]}` }];
  }
  const sides = [...values].map(([v, nodes]) => `${variable}=${v} on ${nodes.join(', ')}`);
  if (!required && unset.length > 0) sides.push(`unset on ${unset.join(', ')}`);
  return [
    {
      name: 'quorum-agreement',
      result: 'fail',
      detail: `the control planes disagree: ${sides.join('; ')}`,
      fix: `give every control plane the same ${variable}: nodes that count differently can each decide a different quorum`,
    },
  ];
}

/** q must be a majority of N (when set) and of the plan's control planes; q above either can never be met. */
function majority(envs: { node: string; env: Record<string, string> }[], planCount: number): PlanCheck[] {
  const checks: PlanCheck[] = [];
  const seen = new Set<string>();
  for (const { env } of envs) {
    const q = Number(env[QUORUM]);
    const nText = env[CONTROL_PLANES];
    const n = nText === undefined ? undefined : Number(nText);
    const key = `${q}/${nText ?? ''}`;
    if (!Number.isInteger(q) || seen.has(key)) continue;
    seen.add(key);
    const fix = `set ${QUORUM} to floor(N/2)+1 (${Math.floor(planCount / 2) + 1} for ${planCount} control planes)${n !== undefined ? ` and ${CONTROL_PLANES} to the number of control planes` : ''}`;
    if (!isMajority(q, planCount)) {
      checks.push({ name: 'quorum-majority', result: 'fail', detail: `${QUORUM}=${q} is no majority of the plan's ${planCount} control planes: two groups of ${q} could each bootstrap their own etcd (split brain)`, fix });
    } else if (q > planCount) {
      // A plan may be part of a cluster (apply re-run for one node): said, not refused.
      checks.push({ name: 'quorum-majority', result: 'warn', detail: `${QUORUM}=${q} is more than the plan's ${planCount} control plane${planCount === 1 ? '' : 's'}: unless other control planes are outside this plan, the quorum can never be reached` });
    }
    if (n !== undefined && Number.isInteger(n)) {
      if (!isMajority(q, n)) checks.push({ name: 'quorum-majority', result: 'fail', detail: `${QUORUM}=${q} is no majority of ${CONTROL_PLANES}=${n}`, fix });
      if (n < planCount) checks.push({ name: 'quorum-majority', result: 'fail', detail: `${CONTROL_PLANES}=${n}, but the plan has ${planCount} control planes`, fix });
      else if (n > planCount) checks.push({ name: 'quorum-majority', result: 'warn', detail: `${CONTROL_PLANES}=${n}, but the plan has only ${planCount} control planes (the others are not in this plan?)` });
    }
  }
  if (!checks.some((c) => c.name === 'quorum-majority') && seen.size > 0) {
    checks.push({ name: 'quorum-majority', result: 'pass', detail: `${QUORUM} is a majority of the plan's ${planCount} control planes` });
  }
  return checks;
}
