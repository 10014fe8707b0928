// What the operator commands need from a node's machine config file before sending it: that it parses,
// its machine type, whether a control plane carries machine.ca.key, and where Talos will install.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseMachineConfig, type MachineConfigFacts } from '../../pki/machine-config.ts';
import { unattendedInstallMatch } from '../../machine-config/unattended-install.ts';
import type { DiskSelector } from '../rules/disk-selector.ts';
import type { TrustedCa } from '../nodes/identify-node.ts';

export interface NodeConfig {
  path: string;
  data: Buffer;
  facts: MachineConfigFacts;
  /** unattendedMatch: Talos v1.14's UnattendedInstallConfig disk selector, when there is no .machine.install. */
  install: { disk?: string; diskSelector?: DiskSelector; unattendedMatch?: string };
  /** machine.type is written at all (Talos would read a missing type as worker; a config without one is a mistake). */
  machineTypeSet: boolean;
  /** Every `kind: ExtensionServiceConfig` document: its name and environment lines (`K=V`). */
  extensionServiceConfigs: ExtensionServiceConfigDoc[];
}

export interface ExtensionServiceConfigDoc {
  name: string;
  environment: string[];
}

/** The ExtensionServiceConfig documents of a multi-document machine config (pkg/machinery/config/types/runtime/extensions). */
function extensionServiceConfigs(text: string): ExtensionServiceConfigDoc[] {
  const out: ExtensionServiceConfigDoc[] = [];
  for (const doc of parseAllDocuments(text)) {
    const js = doc.toJS() as Record<string, unknown> | null;
    if (!js || js.kind !== 'ExtensionServiceConfig') continue;
    const env = Array.isArray(js.environment) ? js.environment.filter((e): e is string => typeof e === 'string') : [];
    out.push({ name: typeof js.name === 'string' ? js.name : '', environment: env });
  }
  return out;
}

export type NodeConfigRead = { ok: true; config: NodeConfig } | { ok: false; problem: string };

/** machine.install and whether machine.type is set, from the v1alpha1 document (parseMachineConfig proved there is exactly one). */
function machineSection(text: string): Pick<NodeConfig, 'install' | 'machineTypeSet'> {
  const docs = parseAllDocuments(text, { logLevel: 'error' }); // no YAML warning may quote the config on stderr
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const js = doc.toJS() as Record<string, unknown> | null;
    if (!js || js.version !== 'v1alpha1' || js.kind !== undefined) continue;
    const machine = (js.machine ?? {}) as Record<string, unknown>;
    const machineTypeSet = typeof machine.type === 'string' && machine.type !== '';
    const install = machine.install as Record<string, unknown> | undefined;
    if (!install || typeof install !== 'object') return { install: {}, machineTypeSet };
    const out: NodeConfig['install'] = {};
    if (typeof install.disk === 'string' && install.disk !== '') out.disk = install.disk;
    if (install.diskSelector && typeof install.diskSelector === 'object') out.diskSelector = install.diskSelector as DiskSelector;
    return { install: out, machineTypeSet };
  }
  return { install: {}, machineTypeSet: false };
}

export function readNodeConfig(path: string): NodeConfigRead {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return { ok: false, problem: `cannot read ${path} (${code}); check the path given for this node` };
  }
  try {
    const text = data.toString('utf8');
    const section = machineSection(text);
    const unattendedMatch = Object.keys(section.install).length === 0 ? unattendedInstallMatch(text) : undefined;
    if (unattendedMatch !== undefined) section.install = { unattendedMatch };
    return { ok: true, config: { path, data, facts: parseMachineConfig(text), ...section, extensionServiceConfigs: extensionServiceConfigs(text) } };
  } catch (e) {
    return { ok: false, problem: `${path}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** machine.ca.crt: once the node runs with this config, its apid certificate chains to it. */
export function osCaOf(config: NodeConfig): TrustedCa | undefined {
  return config.facts.caCertPem ? { pem: config.facts.caCertPem, what: `the OS CA in ${basename(config.path)}` } : undefined;
}
