// The flags every operator command shares, and turning them into the list of nodes to act on.
import { existsSync, readFileSync } from 'node:fs';
import { addressProblem, dialOf } from './node-address.ts';
import { formatDuration, parseDuration } from '../../util/duration.ts';
import { boolFlag, listFlag, parseFlags, stringFlag, type FlagSpec, type FlagValues } from './flags.ts';
import { parsePlan } from './plan.ts';
import { DEFAULT_RETRY, type RetryPolicy } from '../rules/retry.ts';
import { parseTalhelperOutput } from './talhelper.ts';
import { parseTalosconfig, talosconfigPath, type Talosconfig } from './talosconfig.ts';
import type { NodeTarget } from './target.ts';
import { UsageError } from '../usage-error.ts';
import { parseOutput, type OutputFormat } from '../render/output.ts';

/** What every command takes: which nodes, the output format, help. */
export const INPUT_FLAGS: FlagSpec[] = [
  { name: 'nodes', short: 'n', kind: 'list', help: 'comma-separated nodes: IPv4 addresses or hostnames, optionally with :port' },
  { name: 'file', short: 'f', kind: 'string', help: 'machine config file for every --nodes address' },
  { name: 'plan', kind: 'string', help: 'plan file: nodes with address, file, name' },
  { name: 'from-talhelper', kind: 'string', help: 'output of talhelper gencommand apply (a file, or - for stdin)' },
  { name: 'output', short: 'o', kind: 'string', help: 'table (or text), json or yaml', default: 'table' },
  { name: 'help', short: 'h', kind: 'bool', help: 'this help' },
];

/** preflight and apply talk only to nodes in maintenance mode, as talosctl --insecure does. */
export const MAINTENANCE_FLAGS: FlagSpec[] = [
  ...INPUT_FLAGS,
  { name: 'insecure', short: 'i', kind: 'bool', help: 'maintenance mode, as talosctl --insecure (always so for this command; --insecure=false is refused)' },
];

/** Each call's deadline when --call-timeout is not given (ms). */
export const DEFAULT_CALL_TIMEOUT_MS = 5_000;
/** The longest --call-timeout taken (ms): a deadline past it is a typo, and timers cap at 2^31 ms. */
export const MAX_CALL_TIMEOUT_MS = 3_600_000;

/**
 * --call-timeout, defined once for every command; a command whose calls it bounds differently says so in
 * its own help (callTimeoutFlag). Parsed by callTimeoutMs.
 */
export const CALL_TIMEOUT_FLAG: FlagSpec = { name: 'call-timeout', kind: 'string', help: 'deadline of each call to a node; raise it on a slow network', default: '5s' };

/** --call-timeout with the help text of a command that maps it onto its own deadlines. */
export const callTimeoutFlag = (help: string): FlagSpec => ({ ...CALL_TIMEOUT_FLAG, help });

/**
 * --call-timeout in ms (every operator command). Throws UsageError naming the flag on a value that is not a
 * duration from 1ms to 1h.
 */
export function callTimeoutMs(values: FlagValues): number {
  return durationFlag(values, 'call-timeout', DEFAULT_CALL_TIMEOUT_MS, 1, MAX_CALL_TIMEOUT_MS);
}

/** verify and status reach configured nodes with the talosconfig's credentials, through its endpoints. */
export const CONFIGURED_FLAGS: FlagSpec[] = [
  ...INPUT_FLAGS,
  { name: 'talosconfig', kind: 'string', help: 'talosconfig path (default $TALOSCONFIG, then ~/.talos/config)' },
  { name: 'context', kind: 'string', help: 'talosconfig context (default: its current context)' },
  { name: 'endpoints', short: 'e', kind: 'list', help: "endpoints that proxy to the nodes (default: the talosconfig context's; none: each node directly)" },
  CALL_TIMEOUT_FLAG,
];

/** Every flag some command takes (for tests that parse input without a command). */
export const COMMON_FLAGS: FlagSpec[] = [...MAINTENANCE_FLAGS, ...CONFIGURED_FLAGS.filter((f) => !INPUT_FLAGS.includes(f))];

/** --insecure=false asks for something preflight and apply never do: refused, not ignored. */
export function requireMaintenanceMode(values: FlagValues): void {
  if (values.get('insecure') === false) {
    throw new UsageError('--insecure=false: this command talks only to nodes in maintenance mode (as talosctl --insecure); configured nodes are checked with verify and status');
  }
}

export const RETRY_FLAGS: FlagSpec[] = [
  { name: 'retries', kind: 'string', help: 'retries per node after the first attempt', default: String(DEFAULT_RETRY.retries) },
  { name: 'retry-delay', kind: 'string', help: 'delay before the first retry', default: '3s' },
  { name: 'retry-factor', kind: 'string', help: 'multiplier of each further delay', default: String(DEFAULT_RETRY.factor) },
  { name: 'retry-max-delay', kind: 'string', help: 'cap of the delay', default: '1m' },
];

export interface CommonOptions {
  values: FlagValues;
  output: OutputFormat;
}

export function parseCommand(args: string[], specs: FlagSpec[]): CommonOptions {
  const { values, positional } = parseFlags(args, specs);
  if (positional.length > 0) throw new UsageError(`unexpected argument "${positional[0]}"; nodes are given with --nodes, --plan or --from-talhelper`);
  return { values, output: parseOutput(stringFlag(values, 'output')) };
}

/** A duration flag in ms, from `min` to `max` ms; throws UsageError naming the flag and what is valid. */
export function durationFlag(values: FlagValues, name: string, fallbackMs: number, min = 0, max = Number.POSITIVE_INFINITY): number {
  const text = stringFlag(values, name);
  if (text === undefined) return fallbackMs;
  const ms = parseDuration(text);
  if (ms === undefined || ms < min || ms > max) {
    const range = max < Number.POSITIVE_INFINITY ? ` from ${formatDuration(min)} to ${formatDuration(max)}` : min > 0 ? ` of at least ${min}ms` : '';
    throw new UsageError(`--${name} "${text}" is not a duration${range}; use e.g. 500ms, 3s, 1m`);
  }
  return ms;
}

export function intFlag(values: FlagValues, name: string, fallback: number, min: number, max: number): number {
  const text = stringFlag(values, name);
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${name} "${text}" is not valid; use a whole number from ${min} to ${max}`);
  return Number(text);
}

export function retryPolicy(values: FlagValues, defaults: RetryPolicy = DEFAULT_RETRY): RetryPolicy {
  const factorText = stringFlag(values, 'retry-factor');
  const factor = factorText === undefined ? DEFAULT_RETRY.factor : Number(factorText);
  if (!Number.isFinite(factor) || factor < 1 || factor > 10) throw new UsageError(`--retry-factor "${factorText}" is not valid; use a number from 1 to 10`);
  const initialMs = durationFlag(values, 'retry-delay', DEFAULT_RETRY.initialMs, 1);
  const maxMs = durationFlag(values, 'retry-max-delay', DEFAULT_RETRY.maxMs, 1);
  if (maxMs < initialMs) throw new UsageError(`--retry-max-delay (${maxMs}ms) is shorter than --retry-delay (${initialMs}ms)`);
  return { initialMs, factor, maxMs, retries: intFlag(values, 'retries', defaults.retries, 0, 100) };
}

export interface Inputs {
  targets: NodeTarget[];
  /** talosconfig named by the talhelper lines, used when --talosconfig is not given. */
  talosconfigHint?: string;
  /** --context named by the talhelper lines, used with talosconfigHint. */
  contextHint?: string;
}

export interface InputContext {
  cwd: string;
  readStdin(): Promise<string>;
  /** Whether every node needs a config file (preflight, apply) or addresses suffice (verify, status). */
  needFiles: boolean;
  /** Nodes to fall back on when no input flag is given (the talosconfig's nodes, for verify/status). */
  fallbackNodes?: () => string[];
}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path} (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}

export async function resolveInputs(values: FlagValues, ctx: InputContext): Promise<Inputs> {
  const nodes = listFlag(values, 'nodes');
  const file = stringFlag(values, 'file');
  const plan = stringFlag(values, 'plan');
  const talhelper = stringFlag(values, 'from-talhelper');
  const given = [nodes || file ? '--nodes/--file' : undefined, plan ? '--plan' : undefined, talhelper ? '--from-talhelper' : undefined].filter(Boolean);
  if (given.length > 1) throw new UsageError(`give nodes one way only; got ${given.join(' and ')}`);
  let inputs: Inputs;
  if (plan) inputs = { targets: parsePlan(readText(plan, 'plan'), plan) };
  else if (talhelper) {
    const text = talhelper === '-' ? await ctx.readStdin() : readText(talhelper, 'talhelper output');
    const parsed = parseTalhelperOutput(text, ctx.cwd);
    inputs = { targets: parsed.targets, ...(parsed.talosconfig ? { talosconfigHint: parsed.talosconfig } : {}), ...(parsed.context ? { contextHint: parsed.context } : {}) };
  } else if (nodes && nodes.length > 0) {
    if (ctx.needFiles && !file) throw new UsageError('--nodes needs --file (the machine config to apply to them)');
    inputs = { targets: nodes.map((address) => ({ address, name: address, ...(file ? { file } : {}) })) };
  } else if (file) {
    throw new UsageError('--file needs --nodes (the addresses to apply it to)');
  } else {
    const fallback = ctx.fallbackNodes?.() ?? [];
    if (fallback.length === 0) {
      throw new UsageError('no nodes given; use --nodes ADDR[,ADDR] --file CONFIG, --plan PLAN.yaml, or --from-talhelper FILE|-');
    }
    inputs = { targets: fallback.map((address) => ({ address, name: address })) };
  }
  const seen = new Set<string>();
  for (const t of inputs.targets) {
    // As talosctl takes them: an IPv4 address or a hostname (apid's certificate names both), with an optional port.
    const problem = addressProblem(t.address);
    if (problem) throw new UsageError(`node address ${problem}`);
    const { host, port } = dialOf(t.address);
    const key = `${host.toLowerCase()}:${port}`;
    if (seen.has(key)) throw new UsageError(`node ${t.address} is listed twice`);
    seen.add(key);
  }
  if (ctx.needFiles) {
    for (const t of inputs.targets) if (!t.file) throw new UsageError(`node ${t.address} has no config file`);
  }
  return inputs;
}

/**
 * The talosconfig, if there is one. An explicitly named file that cannot be read is a usage error; the
 * default location missing is not (maintenance-mode work needs no credentials).
 */
export function loadTalosconfig(values: FlagValues, env: Record<string, string | undefined>, hint?: string, contextHint?: string): Talosconfig | undefined {
  const flag = stringFlag(values, 'talosconfig');
  const explicit = flag ?? (env.TALOSCONFIG ? env.TALOSCONFIG : hint);
  const path = explicit ?? talosconfigPath(undefined, env, env.HOME || undefined);
  if (!explicit && !existsSync(path)) return undefined;
  if (!existsSync(path)) {
    if (!flag && !env.TALOSCONFIG) return undefined; // talhelper's hint is only a hint
    throw new UsageError(`talosconfig ${path} does not exist; pass --talosconfig PATH (talosctl writes it with gen config)`);
  }
  const fromHint = !flag && !env.TALOSCONFIG && hint !== undefined;
  return parseTalosconfig(readText(path, 'talosconfig'), path, stringFlag(values, 'context') ?? (fromHint ? contextHint : undefined));
}

export const wantsHelp = (values: FlagValues): boolean => boolFlag(values, 'help');

/**
 * verify and status: the nodes, and the talosconfig to reach them with. Without node flags the nodes are
 * the talosconfig context's; a talosconfig named on talhelper lines is used when no --talosconfig or
 * $TALOSCONFIG says otherwise (as talosctl would have used it for those lines).
 */
export async function inputsWithTalosconfig(
  values: FlagValues,
  ctx: Omit<InputContext, 'needFiles' | 'fallbackNodes'> & { env: Record<string, string | undefined> },
): Promise<{ inputs: Inputs; talosconfig: Talosconfig | undefined; endpoints: string[] }> {
  let talosconfig: Talosconfig | undefined;
  let loaded = false;
  const load = (hint?: string, contextHint?: string) => {
    if (!loaded) talosconfig = loadTalosconfig(values, ctx.env, hint, contextHint);
    loaded = true;
    return talosconfig;
  };
  const inputs = await resolveInputs(values, { ...ctx, needFiles: false, fallbackNodes: () => load()?.nodes ?? [] });
  const loadedConfig = load(inputs.talosconfigHint, inputs.contextHint);
  return { inputs, talosconfig: loadedConfig, endpoints: endpointsOf(values, loadedConfig) };
}

/** -e/--endpoints, else the talosconfig context's endpoints (talosctl's order: global/factory.go buildClientFromConfig). */
export function endpointsOf(values: FlagValues, talosconfig: Talosconfig | undefined): string[] {
  const flag = listFlag(values, 'endpoints');
  if (flag && !talosconfig) throw new UsageError('--endpoints needs a talosconfig (its credentials are what the endpoints check); give --talosconfig');
  const endpoints = flag ?? talosconfig?.endpoints ?? [];
  for (const e of endpoints) {
    const problem = addressProblem(e);
    if (problem) throw new UsageError(`endpoint ${problem}`);
  }
  return endpoints;
}
