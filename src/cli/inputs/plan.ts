// The plan file: the nodes of a cluster and the config each gets.
//
//   nodes:
//     - address: 10.0.0.11
//       file: clusterconfig/cp1.yaml
//       name: cp1            # optional
//
// A bare list (without `nodes:`) is accepted too. Relative paths are relative to the plan file.
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import type { NodeTarget } from './target.ts';
import { UsageError } from '../usage-error.ts';

const KEYS = new Set(['address', 'file', 'name']);

export function parsePlan(text: string, planPath: string): NodeTarget[] {
  let doc: unknown;
  try {
    doc = parse(text, { logLevel: 'error' }); // no YAML warning quoting the file on stderr
  } catch (e) {
    throw new UsageError(`plan ${planPath} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(doc) ? doc : (doc as { nodes?: unknown } | null)?.nodes;
  if (!Array.isArray(list) || list.length === 0) {
    throw new UsageError(`plan ${planPath} has no nodes; expected "nodes:" with a list of {address, file, name?}`);
  }
  const base = dirname(planPath);
  return list.map((entry, i) => {
    const where = `plan ${planPath}, node ${i + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new UsageError(`${where}: expected a mapping {address, file, name?}`);
    const e = entry as Record<string, unknown>;
    for (const k of Object.keys(e)) if (!KEYS.has(k)) throw new UsageError(`${where}: unknown key "${k}"; valid keys: address, file, name`);
    if (typeof e.address !== 'string' || e.address.trim() === '') throw new UsageError(`${where}: address is missing; expected the node's IP address`);
    if (typeof e.file !== 'string' || e.file.trim() === '') throw new UsageError(`${where}: file is missing; expected the path of its machine config`);
    if (e.name !== undefined && typeof e.name !== 'string') throw new UsageError(`${where}: name must be a string`);
    const file = isAbsolute(e.file) ? e.file : resolve(base, e.file);
    return { address: e.address.trim(), file, name: typeof e.name === 'string' && e.name ? e.name : e.address.trim() };
  });
}
