// The daemon's configuration: the ExtensionServiceConfig environment, validated all at once.
// Every problem is collected (one entry per variable, saying what would be valid) so an operator fixes
// them in one edit instead of one restart per mistake; nothing is mounted, minted or called before this passes.
import { join } from 'node:path';
import { cleanEnv, EnvError, EnvMissingError, makeValidator, str } from 'envalid';
import { formatDuration, parseDuration } from './util/duration.ts';
import { isIPv4, parsePrefix, type IPv4Prefix } from './util/ipv4.ts';

export const ENV_PREFIX = 'TALOS_AUTO_BOOTSTRAP_';

export const DISCOVERY_SOURCES = ['members', 'scan', 'static'] as const;
export type DiscoverySource = (typeof DISCOVERY_SOURCES)[number];

export const CA_SOURCES = ['auto', 'state', 'socket'] as const;
export type CaSource = (typeof CA_SOURCES)[number];

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The narrowest scan prefix an operator may configure: a /16 is 65,534 hosts; wider is a mistake. */
export const WIDEST_SCAN_BITS = 16;
export const MAX_SCAN_CONCURRENCY = 4096;
export const DEFAULT_FAILURE_PAUSE_MS = 60_000;
/**
 * The agreement's port: used by no Talos component (pkg/machinery/constants/constants.go), below Linux's
 * ephemeral range 32768–60999 (Talos reserves only 50000 and 50001 from it, kernel_param_defaults.go), so an
 * outgoing connection can never hold it, and outside Kubernetes' NodePort range 30000–32767.
 */
export const DEFAULT_AGREEMENT_PORT = 24450;
export const DEFAULT_STATE_DIR = '/var/lib/autobootstrap';
export const DEFAULT_REISSUE_DELAY_MS = 5 * 60_000;

export interface Config {
  logLevel: LogLevel;
  quorumNodes: number;
  scanIntervalMs: number;
  followerCheckIntervalMs: number;
  preBootstrapDelayMs: number;
  maxBackoffMs: number;
  scanTimeoutMs: number;
  scanConcurrency: number;
  /** Undefined: detect from the route table. */
  scanCidrs: IPv4Prefix[] | undefined;
  peers: string[];
  discovery: DiscoverySource[];
  /** Undefined: detect from the route table. */
  nodeIp: string | undefined;
  /** Where this node's own apid answers (127.0.0.1, always in apid's certificate). */
  localApid: string;
  apidPort: number;
  caSource: CaSource;
  /** How long (summed retry delays) a STATE mount refused as busy is retried. */
  stateBusyTimeoutMs: number;
  hostRoot: string;
  dryRun: boolean;
  /** Lifetime of each minted client certificate; renewed once a third of it (plus the 5 min backdate) remains. */
  clientCertTtlMs: number;
  /** Pause before a failing exit, so Talos's immediate restart does not repeat the same lines every few seconds. */
  failurePauseMs: number;
  /** The real control-plane count N, when the operator set it (docs/agreement.md). */
  controlPlanes: number | undefined;
  /** TCP port of the agreement's gRPC server, on every control plane. */
  agreementPort: number;
  /** Where the acceptor state lives (a host path the service spec mounts read-write); by default under the host root. */
  stateDir: string;
  /** Least time between Bootstrap calls on the chosen node when etcd never started, ms. */
  reissueDelayMs: number;
}

export interface ConfigProblem {
  variable: string;
  value: string | undefined;
  problem: string;
}

/** `warnings` (unknown TALOS_AUTO_BOOTSTRAP_* variables with either outcome; values the reference accepted that are risky, with a valid one) are logged before anything else, so a typo is named even when it
 *  is the cause of a problem ("QUORUM_NODES: required" beside "QUORUM_NODE: did you mean ...?"). */
export type ConfigResult =
  | { ok: true; config: Config; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[]; warnings: ConfigProblem[] };

/** Specs whose value is a duration in ms, so the generated help prints their defaults as durations. */
export const DURATION_SPECS = new WeakSet<object>();

const duration = (opts: { allowZero: boolean }) => {
  const validator = makeValidator<number>((input: string) => {
    const ms = parseDuration(input);
    if (ms === undefined) throw new EnvError('expected a duration such as 500ms, 30s, 2m or 1h30m');
    if (!opts.allowZero && ms === 0) throw new EnvError('must be longer than zero (e.g. 2s)');
    return ms;
  });
  return (spec?: Parameters<typeof validator>[0]) => {
    const made = validator(spec);
    DURATION_SPECS.add(made);
    return made;
  };
};

const durationRange = (minMs: number, maxMs: number) => {
  const validator = makeValidator<number>((input: string) => {
    const ms = parseDuration(input);
    if (ms === undefined) throw new EnvError('expected a duration such as 10m, 24h or 168h');
    if (ms < minMs || ms > maxMs) throw new EnvError(`must be from ${formatDuration(minMs)} to ${formatDuration(maxMs)}`);
    return ms;
  });
  return (spec?: Parameters<typeof validator>[0]) => {
    const made = validator(spec);
    DURATION_SPECS.add(made);
    return made;
  };
};

const intRange = (min: number, max: number) =>
  makeValidator<number>((input: string) => {
    const n = Number(input.trim());
    if (!/^\s*\d+\s*$/.test(input) || !Number.isSafeInteger(n)) throw new EnvError(`expected a whole number from ${min} to ${max}`);
    if (n < min || n > max) throw new EnvError(`must be from ${min} to ${max}`);
    return n;
  });

export const DEFAULT_SCAN_CONCURRENCY = 256;

/**
 * The reference extension took any integer. Out of 1..MAX it still starts, with a warning (compatWarnings):
 * above MAX it is capped, below 1 (which never probed anything there) the default is used.
 */
const scanConcurrency = makeValidator<number>((input: string) => {
  if (!/^\s*-?\d+\s*$/.test(input)) throw new EnvError(`expected a whole number from 1 to ${MAX_SCAN_CONCURRENCY}`);
  const n = Number(input.trim());
  if (!Number.isSafeInteger(n) || n > MAX_SCAN_CONCURRENCY) return MAX_SCAN_CONCURRENCY;
  return n < 1 ? DEFAULT_SCAN_CONCURRENCY : n;
});

const commaList = (input: string): string[] =>
  input
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

const prefixList = makeValidator<IPv4Prefix[]>((input: string) => {
  const prefixes: IPv4Prefix[] = [];
  for (const item of commaList(input)) {
    const withBits = item.includes('/') ? item : `${item}/32`;
    const prefix = parsePrefix(withBits);
    if (!prefix) throw new EnvError(`"${item}" is not an IPv4 prefix; expected e.g. 10.0.0.0/24 or 10.0.0.5/32, comma-separated`);
    // Wider than /16 (the reference extension took any prefix): accepted with a warning; the daemon scans
    // only the /16 of it that holds this node's address (src/daemon.ts scanPrefixesFor).
    prefixes.push(prefix);
  }
  if (prefixes.length === 0) throw new EnvError('expected at least one IPv4 prefix, e.g. 10.0.0.0/24');
  return prefixes;
});

const addressList = makeValidator<string[]>((input: string) => {
  const items = commaList(input);
  const bad = items.filter((a) => !isIPv4(a));
  if (bad.length > 0) throw new EnvError(`not IPv4 addresses: ${bad.join(', ')}; expected e.g. 10.0.0.5,10.0.0.6`);
  return [...new Set(items)];
});

const ipv4 = makeValidator<string>((input: string) => {
  if (!isIPv4(input.trim())) throw new EnvError('expected this node\'s IPv4 address, e.g. 10.0.0.5');
  return input.trim();
});

const sourceList = makeValidator<DiscoverySource[]>((input: string) => {
  const items = commaList(input);
  const bad = items.filter((s) => !(DISCOVERY_SOURCES as readonly string[]).includes(s));
  if (bad.length > 0 || items.length === 0) {
    throw new EnvError(`expected a comma-separated subset of ${DISCOVERY_SOURCES.join(',')}${bad.length ? ` (unknown: ${bad.join(', ')})` : ''}`);
  }
  return [...new Set(items)] as DiscoverySource[];
});

const strictBool = makeValidator<boolean>((input: string) => {
  const v = input.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no', ''].includes(v)) return false;
  throw new EnvError('expected true or false');
});

/**
 * The reference extension read LOG_LEVEL with zap, which takes its level names in lower or upper case,
 * including dpanic, panic and fatal. Those still start the daemon: the three show errors only here.
 */
const ZAP_ONLY_LEVELS: Record<string, LogLevel> = { dpanic: 'error', panic: 'error', fatal: 'error', warning: 'warn' };

const logLevel = makeValidator<LogLevel>((input: string) => {
  const v = input.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  const mapped = ZAP_ONLY_LEVELS[v];
  if (mapped) return mapped;
  throw new EnvError(`expected one of ${LOG_LEVELS.join(', ')}`);
});

const SPECS = {
  LOG_LEVEL: logLevel({ default: 'info' }),
  TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: intRange(1, 1000)(),
  TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: duration({ allowZero: false })({ default: 30_000 }),
  TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: duration({ allowZero: false })({ default: 15_000 }),
  TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: duration({ allowZero: true })({ default: 10_000 }),
  TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: duration({ allowZero: false })({ default: 120_000 }),
  TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: duration({ allowZero: false })({ default: 2_000 }),
  TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: scanConcurrency({ default: DEFAULT_SCAN_CONCURRENCY }),
  TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: prefixList({ default: undefined }),
  TALOS_AUTO_BOOTSTRAP_PEERS: addressList({ default: [] }),
  TALOS_AUTO_BOOTSTRAP_DISCOVERY: sourceList({ default: ['members', 'scan', 'static'] }),
  TALOS_AUTO_BOOTSTRAP_NODE_IP: ipv4({ default: undefined }),
  TALOS_AUTO_BOOTSTRAP_LOCAL_APID: ipv4({ default: '127.0.0.1' }),
  TALOS_AUTO_BOOTSTRAP_APID_PORT: intRange(1, 65535)({ default: 50000 }),
  TALOS_AUTO_BOOTSTRAP_CA_SOURCE: str({ choices: CA_SOURCES, default: 'auto' }),
  TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT: duration({ allowZero: true })({ default: 30_000 }),
  // Below 3m the 5-minute backdate makes every use a renewal (mint.ts shouldRenew); above 30 days is no longer short-lived.
  TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL: durationRange(3 * 60_000, 30 * 24 * 3_600_000)({ default: 24 * 3_600_000 }),
  TALOS_AUTO_BOOTSTRAP_HOST_ROOT: str({ default: '/' }),
  TALOS_AUTO_BOOTSTRAP_DRY_RUN: strictBool({ default: false }),
  TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: duration({ allowZero: true })({ default: DEFAULT_FAILURE_PAUSE_MS }),
  TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES: intRange(1, 1000)({ default: undefined }),
  TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT: intRange(1, 65535)({ default: DEFAULT_AGREEMENT_PORT }),
  TALOS_AUTO_BOOTSTRAP_STATE_DIR: str({ default: undefined }),
  TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: duration({ allowZero: false })({ default: DEFAULT_REISSUE_DELAY_MS }),
};

/** The schema itself, for the generated help and configuration table (src/config-help.ts). */
export const CONFIG_SPECS: Readonly<Record<string, { default?: unknown; choices?: readonly unknown[]; desc?: string }>> = SPECS;

/** Every variable the daemon reads, from the schema: the help, the table and the typo hints follow it. */
export const KNOWN_VARIABLES = Object.keys(SPECS);

function describeAllowed(name: string, error: Error): string {
  if (error instanceof EnvMissingError) {
    return name === 'TALOS_AUTO_BOOTSTRAP_QUORUM_NODES'
      ? 'required: the number of control planes (this one included) that must agree before bootstrapping; a majority of the control planes, floor(N/2)+1, or the full control-plane count'
      : 'required';
  }
  // envalid words choice errors itself; say the allowed values plainly.
  const spec = (SPECS as Record<string, { choices?: readonly unknown[] }>)[name];
  if (spec?.choices) return `expected one of ${spec.choices.join(', ')}`;
  return error.message;
}

export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const problems: ConfigProblem[] = [];
  // Only our variables go to envalid, so an unrelated environment never matters.
  const input: Record<string, string> = {};
  for (const name of KNOWN_VARIABLES) {
    const v = env[name];
    if (v !== undefined) input[name] = v;
  }
  // The reference extension's "empty means detect": an empty SCAN_CIDR is the same as leaving it out.
  if (input.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR !== undefined && input.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR.trim() === '') delete input.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR;
  const clean = cleanEnv(input, SPECS, {
    reporter: ({ errors }) => {
      for (const [variable, error] of Object.entries(errors)) {
        if (error) problems.push({ variable, value: input[variable], problem: describeAllowed(variable, error) });
      }
    },
  });
  if (problems.length > 0) return { ok: false, problems, warnings: unknownVariables(env) };

  const config: Config = {
    logLevel: clean.LOG_LEVEL as LogLevel,
    quorumNodes: clean.TALOS_AUTO_BOOTSTRAP_QUORUM_NODES,
    scanIntervalMs: clean.TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL,
    followerCheckIntervalMs: clean.TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL,
    preBootstrapDelayMs: clean.TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY,
    maxBackoffMs: clean.TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF,
    scanTimeoutMs: clean.TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT,
    scanConcurrency: clean.TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY,
    scanCidrs: clean.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR,
    peers: clean.TALOS_AUTO_BOOTSTRAP_PEERS,
    discovery: clean.TALOS_AUTO_BOOTSTRAP_DISCOVERY,
    nodeIp: clean.TALOS_AUTO_BOOTSTRAP_NODE_IP,
    localApid: clean.TALOS_AUTO_BOOTSTRAP_LOCAL_APID,
    apidPort: clean.TALOS_AUTO_BOOTSTRAP_APID_PORT,
    caSource: clean.TALOS_AUTO_BOOTSTRAP_CA_SOURCE as CaSource,
    stateBusyTimeoutMs: clean.TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT,
    clientCertTtlMs: clean.TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL,
    hostRoot: clean.TALOS_AUTO_BOOTSTRAP_HOST_ROOT,
    dryRun: clean.TALOS_AUTO_BOOTSTRAP_DRY_RUN,
    failurePauseMs: clean.TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE,
    controlPlanes: clean.TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES,
    agreementPort: clean.TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT,
    stateDir: clean.TALOS_AUTO_BOOTSTRAP_STATE_DIR ?? join(clean.TALOS_AUTO_BOOTSTRAP_HOST_ROOT, DEFAULT_STATE_DIR),
    reissueDelayMs: clean.TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY,
  };
  problems.push(...crossChecks(config, input));
  if (problems.length > 0) return { ok: false, problems, warnings: unknownVariables(env) };
  return { ok: true, config, warnings: [...unknownVariables(env), ...compatWarnings(config, input)] };
}

/** The failure pause even when the rest of the configuration is invalid (its own default if it is too). */
export function failurePause(env: Record<string, string | undefined>): number {
  const text = env.TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE;
  return (text === undefined ? undefined : parseDuration(text)) ?? DEFAULT_FAILURE_PAUSE_MS;
}

/** Problems that only show in combination. */
function crossChecks(config: Config, input: Record<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const finders = config.discovery.filter((d) => d !== 'static' || config.peers.length > 0);
  if (config.quorumNodes > 1 && finders.length === 0) {
    // Only the static source, with nothing in it: a multi-node quorum could never be reached.
    problems.push({
      variable: 'TALOS_AUTO_BOOTSTRAP_QUORUM_NODES',
      value: input.TALOS_AUTO_BOOTSTRAP_QUORUM_NODES,
      problem:
        'a quorum above 1 needs a way to find peers: add members or scan to TALOS_AUTO_BOOTSTRAP_DISCOVERY, or set TALOS_AUTO_BOOTSTRAP_PEERS',
    });
  }
  problems.push(...agreementChecks(config, input));
  return problems;
}

/**
 * Values the reference extension accepted that still start the daemon, each with what is risky about it.
 * Returned with the warnings; the daemon logs each once at start.
 */
function compatWarnings(config: Config, input: Record<string, string>): ConfigProblem[] {
  const warnings: ConfigProblem[] = [];
  const level = input.LOG_LEVEL?.trim().toLowerCase();
  if (level !== undefined && ZAP_ONLY_LEVELS[level] !== undefined && level !== 'warning') {
    warnings.push({ variable: 'LOG_LEVEL', value: input.LOG_LEVEL, problem: `${level} is read as error: only errors are logged, not why the daemon waits; use info` });
  }
  const concurrency = input.TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY?.trim();
  if (concurrency !== undefined && Number(concurrency) !== config.scanConcurrency) {
    warnings.push({
      variable: 'TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY',
      value: input.TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY,
      problem: `outside 1 to ${MAX_SCAN_CONCURRENCY}; probing ${config.scanConcurrency} at a time`,
    });
  }
  const wide = (config.scanCidrs ?? []).filter((p) => p.bits < WIDEST_SCAN_BITS);
  if (wide.length > 0) {
    warnings.push({
      variable: 'TALOS_AUTO_BOOTSTRAP_SCAN_CIDR',
      value: input.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR,
      problem: `${wide.map((p) => p.text).join(', ')} wider than /${WIDEST_SCAN_BITS}: only the /${WIDEST_SCAN_BITS} holding this node's address is scanned; list the control planes' networks (/${WIDEST_SCAN_BITS} to /32) or set TALOS_AUTO_BOOTSTRAP_PEERS`,
    });
  }
  if (config.scanTimeoutMs >= config.scanIntervalMs) {
    warnings.push({
      variable: 'TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT',
      value: input.TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT,
      problem: `not shorter than TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL (${formatDuration(config.scanIntervalMs)}): rounds start back to back; a timeout well below the interval is usual`,
    });
  }
  return warnings;
}

/** The agreement's rules: q a majority of N when N is set; an absolute state directory; distinct ports. */
function agreementChecks(config: Config, input: Record<string, string>): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const n = config.controlPlanes;
  if (n !== undefined) {
    const majority = Math.floor(n / 2) + 1;
    if (config.quorumNodes < majority || config.quorumNodes > n) {
      problems.push({
        variable: 'TALOS_AUTO_BOOTSTRAP_QUORUM_NODES',
        value: input.TALOS_AUTO_BOOTSTRAP_QUORUM_NODES,
        problem: `must be from ${majority} (a majority of TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=${n}) to ${n}; a smaller quorum lets two groups each bootstrap a cluster`,
      });
    }
  }
  if (!config.stateDir.startsWith('/')) {
    problems.push({ variable: 'TALOS_AUTO_BOOTSTRAP_STATE_DIR', value: input.TALOS_AUTO_BOOTSTRAP_STATE_DIR, problem: 'expected an absolute path, e.g. /var/lib/autobootstrap' });
  }
  if (config.agreementPort === config.apidPort) {
    problems.push({ variable: 'TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT', value: input.TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT, problem: `must differ from TALOS_AUTO_BOOTSTRAP_APID_PORT (${config.apidPort})` });
  }
  return problems;
}

/** A misspelt variable is otherwise silently ignored; name it, and the known name closest to it. */
export function unknownVariables(env: Record<string, string | undefined>): ConfigProblem[] {
  const known = KNOWN_VARIABLES.filter((n) => n.startsWith(ENV_PREFIX));
  return Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX) && !KNOWN_VARIABLES.includes(name))
    .sort()
    .map((variable) => ({
      variable,
      value: env[variable],
      problem: `not a variable autobootstrap reads (ignored); did you mean ${closestName(variable, known)}? (autobootstrap run --help lists them all)`,
    }));
}

/** The candidate with the smallest edit distance to `name` (ties: the first in schema order). */
export function closestName(name: string, candidates: readonly string[]): string {
  let best = candidates[0] ?? '';
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(name, c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions, each costing 1. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] as number;
}
