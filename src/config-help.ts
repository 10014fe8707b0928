// The daemon's variables as people read them: `autobootstrap run --help` and the table in
// docs/configuration.md. Names, defaults and allowed values come from the schema in config.ts, so a new
// variable appears in both by itself; only the one-line meaning is written here (or as the spec's `desc`).
// test/unit/config-help.test.ts fails when a variable has no meaning or the committed table is stale.
import { CONFIG_SPECS, DURATION_SPECS, KNOWN_VARIABLES } from './config.ts';
import { formatDuration } from './util/duration.ts';

/** Where the full table lives, relative to the repository root. */
export const CONFIG_TABLE_PATH = 'docs/configuration.md';

/** Meanings, and the words for defaults the schema leaves undefined (worked out at run time). */
const MEANINGS: Record<string, { meaning: string; defaultText?: string }> = {
  LOG_LEVEL: { meaning: "how much to log: debug, info, warn or error (the reference extension's zap names are read too, with a warning)" },
  TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: {
    meaning: 'control planes (this one included) that must see each other and agree on the one bootstrapper; a majority, floor(N/2)+1, or the full count (docs/agreement.md)',
  },
  TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: { meaning: 'a discovery round starts this often while waiting for quorum (sooner when a new member appears)' },
  TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: { meaning: 'how often a follower, or a node waiting for etcd, checks again' },
  TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: { meaning: "the leader's settle time before its final check and the Bootstrap call" },
  TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: { meaning: 'cap of the jittered exponential backoff between Bootstrap retries' },
  TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: { meaning: 'per-probe deadline; keep it well below SCAN_INTERVAL (a warning says so otherwise)' },
  TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: { meaning: 'probes in flight at once (lowered, with a warning, if the open-file limit cannot hold them)' },
  TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: {
    meaning: 'comma-separated IPv4 prefixes to scan, /16 to /32 (a bare address is a /32)',
    defaultText: "the prefix of the default route's interface",
  },
  TALOS_AUTO_BOOTSTRAP_PEERS: { meaning: 'comma-separated peer addresses, always probed', defaultText: 'none' },
  TALOS_AUTO_BOOTSTRAP_DISCOVERY: { meaning: 'discovery sources: members (Talos cluster discovery), scan (SCAN_CIDR), static (PEERS)' },
  TALOS_AUTO_BOOTSTRAP_NODE_IP: { meaning: 'an address of this node', defaultText: "the default route's interface address" },
  TALOS_AUTO_BOOTSTRAP_LOCAL_APID: { meaning: "the address this node's own apid is reached at (127.0.0.1 is always in apid's certificate)" },
  TALOS_AUTO_BOOTSTRAP_APID_PORT: { meaning: 'apid port, of this node and of its peers' },
  TALOS_AUTO_BOOTSTRAP_CA_SOURCE: { meaning: "where the machine CA is read from; auto tries the STATE partition's sources, then machined's socket (Talos v1.13+)" },
  TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT: { meaning: 'how long a STATE mount refused as busy is retried; 0s tries once' },
  TALOS_AUTO_BOOTSTRAP_HOST_ROOT: { meaning: 'prefix of every host path; leave it / on a node (tests point it at a fixture tree)' },
  TALOS_AUTO_BOOTSTRAP_DRY_RUN: { meaning: 'decide and log, never call Bootstrap' },
  TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: { meaning: "pause before a non-zero exit, so Talos's restart does not repeat the same lines every few seconds" },
  TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL: { meaning: 'lifetime of the client certificates minted from the machine CA (3m to 30 days); renewed when a third is left' },
  TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES: { meaning: 'N, the real number of control planes; a quorum below floor(N/2)+1 is then refused (exit 2)', defaultText: 'unset' },
  TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT: { meaning: 'TCP port of the agreement between the control planes; open it between them when the ingress firewall is on' },
  TALOS_AUTO_BOOTSTRAP_STATE_DIR: { meaning: "the agreement's durable state; the service spec mounts it read-write", defaultText: '/var/lib/autobootstrap (under HOST_ROOT)' },
  TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: { meaning: 'least time before the chosen node repeats a Bootstrap whose etcd never started (lost in a reboot)' },
};

export interface ConfigRow {
  variable: string;
  /** The default as an operator would write it; `required` when there is none. */
  defaultText: string;
  /** Allowed values for a choice, e.g. `debug, info, warn, error`. */
  choices: string | undefined;
  meaning: string | undefined;
}

function defaultOf(spec: (typeof CONFIG_SPECS)[string], override: string | undefined): string {
  if (!('default' in spec)) return 'required';
  const value = spec.default;
  if (override !== undefined) return override;
  if (value === undefined) return 'detected';
  if (typeof value === 'number' && DURATION_SPECS.has(spec)) return formatDuration(value);
  if (Array.isArray(value)) return value.length === 0 ? 'none' : value.join(',');
  return String(value);
}

/** One row per variable the daemon reads, in the schema's order. */
export function configRows(): ConfigRow[] {
  return KNOWN_VARIABLES.map((variable) => {
    const spec = CONFIG_SPECS[variable] as (typeof CONFIG_SPECS)[string];
    const words = MEANINGS[variable];
    return {
      variable,
      defaultText: defaultOf(spec, words?.defaultText),
      choices: spec.choices ? spec.choices.join(', ') : undefined,
      meaning: spec.desc ?? words?.meaning,
    };
  });
}

/** `autobootstrap run --help`: every variable with its default, and where the full table is. */
export function daemonHelp(version: string): string {
  const rows = configRows();
  const width = Math.max(...rows.map((r) => r.variable.length));
  const lines = rows.map((r) => {
    const extra = r.choices ? ` (${r.choices})` : '';
    return `  ${r.variable.padEnd(width)}  ${r.defaultText.padEnd(10)} ${r.meaning ?? ''}${extra}`;
  });
  return `autobootstrap ${version}
usage: autobootstrap run

The node daemon, run by Talos as the extension service ext-autobootstrap on every node. It takes no
arguments: it reads the environment an ExtensionServiceConfig document named "autobootstrap" gives it,
reports every invalid variable at once and exits 2 before doing anything. On a worker it exits 0 at once.

variables (name, default, meaning):
${lines.join('\n')}

Durations: 500ms, 30s, 2m, 1h30m. The full table, with the rules each value must follow, is
${CONFIG_TABLE_PATH} in the source repository.

exit codes: 0 done (bootstrapped, joined, or a worker); 1 failure (Talos restarts it);
            2 configuration error; 3 refused for safety (two clusters seen, or etcd not configured)
`;
}

/** The Markdown table in docs/configuration.md (between its generated-table markers). */
export function configTableMarkdown(): string {
  const rows = configRows().map((r) => {
    const meaning = `${r.meaning ?? ''}${r.choices ? `: ${r.choices.split(', ').map((c) => `\`${c}\``).join(', ')}` : ''}`;
    const def = r.defaultText === 'required' || r.defaultText.includes(' ') || r.defaultText === 'none' ? r.defaultText : `\`${r.defaultText}\``;
    return `| \`${r.variable}\` | ${def} | ${meaning} |`;
  });
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}

export const TABLE_BEGIN = '<!-- config-table:begin (generated from src/config.ts: bun scripts/config-table.ts) -->';
export const TABLE_END = '<!-- config-table:end -->';

/** `doc` with its generated region replaced by the current table. */
export function withFreshTable(doc: string): string {
  const start = doc.indexOf(TABLE_BEGIN);
  const end = doc.indexOf(TABLE_END);
  if (start < 0 || end < start) throw new Error(`${CONFIG_TABLE_PATH} lacks the markers ${TABLE_BEGIN} ... ${TABLE_END}`);
  return `${doc.slice(0, start + TABLE_BEGIN.length)}\n${configTableMarkdown()}\n${doc.slice(end)}`;
}
