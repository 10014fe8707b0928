// Reads the output of `talhelper gencommand apply`: one `talosctl apply-config --talosconfig=...
// --nodes=IP --file=PATH [extra flags];` per node and address. Pure: text in, targets out.
import { isAbsolute, resolve } from 'node:path';
import { parseFlags, boolFlag, listFlag, stringFlag, type FlagSpec } from './flags.ts';
import { splitShell } from './shell-words.ts';
import type { NodeTarget } from './target.ts';
import { UsageError } from '../usage-error.ts';
import { parseFingerprint } from '../nodes/fingerprint.ts';

/** talosctl apply-config's flags (and its global ones) as talhelper or an operator may add them. */
export const APPLY_CONFIG_FLAGS: FlagSpec[] = [
  { name: 'nodes', short: 'n', kind: 'list', help: 'node addresses' },
  { name: 'file', short: 'f', kind: 'string', help: 'machine config file' },
  { name: 'insecure', short: 'i', kind: 'bool', help: 'maintenance mode' },
  { name: 'talosconfig', kind: 'string', help: 'talosconfig path' },
  { name: 'context', kind: 'string', help: 'talosconfig context' },
  { name: 'endpoints', short: 'e', kind: 'list', help: 'endpoints' },
  { name: 'mode', short: 'm', kind: 'string', help: 'apply mode' },
  { name: 'dry-run', kind: 'bool', help: 'dry run' },
  { name: 'config-patch', short: 'p', kind: 'list', help: 'config patches' },
  { name: 'cert-fingerprint', kind: 'list', help: 'server certificate fingerprints' },
  { name: 'timeout', kind: 'string', help: 'try-mode timeout' },
  { name: 'cluster', kind: 'string', help: 'Omni cluster' },
];

export interface TalhelperPlan {
  targets: NodeTarget[];
  /** The --talosconfig the lines name (the same on every line in talhelper's output), if any. */
  talosconfig?: string;
  /** The --context the lines name, used with their --talosconfig (verify, status). */
  context?: string;
  /** Lines that asked for --insecure (apply always talks to maintenance mode so; --insecure=false is refused). */
  insecure: boolean;
}

function nameFromFile(file: string): string {
  const base = file.split('/').pop() ?? file;
  return base.replace(/\.ya?ml$/, '');
}

/**
 * `baseDir` resolves relative --file paths, as bash would from the directory the pipeline runs in.
 * Every problem names its line; nothing is half-accepted.
 */
export function parseTalhelperOutput(text: string, baseDir: string): TalhelperPlan {
  const targets: NodeTarget[] = [];
  let talosconfig: string | undefined;
  let insecure = false;
  let context: string | undefined;
  for (const cmd of splitShell(text)) {
    const where = `line ${cmd.line}`;
    const [program, verb, ...args] = cmd.words;
    if (program !== 'talosctl' && !program?.endsWith('/talosctl')) {
      throw new UsageError(`${where}: expected a "talosctl apply-config ..." command, got "${cmd.words.join(' ').slice(0, 80)}"`);
    }
    if (verb !== 'apply-config' && verb !== 'apply') {
      throw new UsageError(`${where}: expected "talosctl apply-config", got "talosctl ${verb ?? ''}" (use: talhelper gencommand apply)`);
    }
    const { values, positional } = parseFlags(args, APPLY_CONFIG_FLAGS, where);
    if (positional.length > 0) throw new UsageError(`${where}: unexpected argument "${positional[0]}"`);
    const nodes = listFlag(values, 'nodes');
    const file = stringFlag(values, 'file');
    if (!nodes || nodes.length === 0) throw new UsageError(`${where}: no --nodes; each line must name its node(s)`);
    if (!file) throw new UsageError(`${where}: no --file; each line must name its machine config`);
    const mode = stringFlag(values, 'mode');
    if (mode !== undefined && mode.toLowerCase() !== 'auto') {
      throw new UsageError(`${where}: --mode=${mode} is not supported; autobootstrap applies with mode auto (drop the flag)`);
    }
    if (listFlag(values, 'config-patch')) {
      throw new UsageError(`${where}: --config-patch is not supported; patch the config file first (talhelper genconfig does) and apply the result`);
    }
    if (boolFlag(values, 'dry-run')) throw new UsageError(`${where}: --dry-run is not supported here; run autobootstrap preflight instead`);
    // Parsed so that they are named, never silently dropped: none of them has a meaning for a maintenance-mode apply here.
    if (listFlag(values, 'endpoints')) throw new UsageError(`${where}: --endpoints is not supported on apply lines: a node in maintenance mode is dialled directly (talosctl --insecure does the same); give -e to verify or status`);
    if (stringFlag(values, 'timeout') !== undefined) throw new UsageError(`${where}: --timeout is for --mode=try, which autobootstrap does not use (drop the flag)`);
    if (stringFlag(values, 'cluster') !== undefined) throw new UsageError(`${where}: --cluster (Omni) is not supported; apply the config directly`);
    if (values.get('insecure') === false) throw new UsageError(`${where}: --insecure=false: autobootstrap applies only to nodes in maintenance mode (as --insecure)`);
    const ctxName = stringFlag(values, 'context');
    if (ctxName) context ??= ctxName;
    const tc = stringFlag(values, 'talosconfig');
    if (tc) talosconfig ??= isAbsolute(tc) ? tc : resolve(baseDir, tc);
    insecure ||= boolFlag(values, 'insecure');
    const path = isAbsolute(file) ? file : resolve(baseDir, file);
    const fingerprints = (listFlag(values, 'cert-fingerprint') ?? []).map((f) => {
      const parsed = parseFingerprint(f);
      if (!parsed) throw new UsageError(`${where}: --cert-fingerprint "${f}" is not a certificate fingerprint; expected base64 of a SHA-256 digest, as the node's console prints it`);
      return parsed;
    });
    for (const address of nodes) targets.push({ address, file: path, name: nameFromFile(file), ...(fingerprints.length > 0 ? { certFingerprints: fingerprints } : {}) });
  }
  if (targets.length === 0) throw new UsageError('the talhelper output has no talosctl apply-config line (is it the output of: talhelper gencommand apply?)');
  return { targets, ...(talosconfig ? { talosconfig } : {}), ...(context ? { context } : {}), insecure };
}
