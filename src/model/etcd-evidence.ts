// What one control plane says about its etcd, as plain data: the etcd service's state with its last event,
// and what its etcd data directory holds. Both are read over the same verified session as the node's
// identity (src/discovery/inspect-peer.ts). "Not bootstrapped" is built only from positive facts here;
// anything a node did not positively say is `unknown`.

/** Talos's etcd data directory (constants.EtcdDataPath; since v1.14 the optional ETCD volume mounts here). */
export const ETCD_DATA_DIR = '/var/lib/etcd';

/**
 * The etcd service as machined's ServiceList reports it (internal/app/machined/pkg/system/service_runner.go,
 * system.go): the state name and the message of its newest event.
 */
export interface EtcdServiceFact {
  state: string;
  /** The newest event's message ("Running pre state", "Bootstrap requested", ...); '' when none. */
  lastEvent: string;
}

export type EtcdServiceEvidence =
  /** The etcd process runs: a cluster exists. */
  | { kind: 'running'; fact: EtcdServiceFact }
  /**
   * A Bootstrap was accepted here: Talos stops etcd with `Finished` "Bootstrap requested" and starts a
   * new etcd in bootstrap mode (v1alpha1_server.go Bootstrap). The data directory is written only later.
   */
  | { kind: 'bootstrap-requested'; fact: EtcdServiceFact }
  /** Positively not running: Initialized, Starting, Waiting, Preparing, Failed, Finished, Skipped. */
  | { kind: 'not-running'; fact: EtcdServiceFact }
  /** No answer, no etcd in the list, or a state that may still run etcd (Stopping, Unknown, anything new). */
  | { kind: 'unknown'; why: string; fact?: EtcdServiceFact };

export type DataDirEvidence =
  /** MachineService List answered with the directory itself and nothing in it. */
  | { kind: 'empty' }
  /** At least one entry: Talos's own Bootstrap refuses here (AlreadyExists), and a member may hold data. */
  | { kind: 'has-data'; entries: string[] }
  /** An error, an empty reply, a reply without the directory itself, or an entry with an error. */
  | { kind: 'unknown'; why: string };

export interface EtcdEvidence {
  service: EtcdServiceEvidence;
  dataDir: DataDirEvidence;
}

/** Service states that positively mean "no etcd process runs" (events.ServiceState names). */
const NOT_RUNNING_STATES = new Set(['Initialized', 'Starting', 'Waiting', 'Preparing', 'Failed', 'Finished', 'Skipped']);

/** Talos's message when Bootstrap stops the joining etcd (v1alpha1_server.go). */
export const BOOTSTRAP_REQUESTED = 'Bootstrap requested';

/** The etcd service entry of a ServiceList reply, classified; undefined when etcd is not listed. */
export function etcdServiceEvidence(fact: EtcdServiceFact | undefined): EtcdServiceEvidence {
  if (!fact) return { kind: 'unknown', why: 'etcd is not in the service list' };
  if (fact.state === 'Running') return { kind: 'running', fact };
  if (fact.lastEvent === BOOTSTRAP_REQUESTED) return { kind: 'bootstrap-requested', fact };
  if (NOT_RUNNING_STATES.has(fact.state)) return { kind: 'not-running', fact };
  return { kind: 'unknown', why: `etcd service state ${fact.state || '(none)'}`, fact };
}

/** One entry of a MachineService List reply (machine.FileInfo: name, relative_name, is_dir, error). */
export interface ListedFile {
  name: string;
  relativeName: string;
  isDir: boolean;
  error: string;
}

/**
 * A List of the data directory without recursion: Talos's walker (pkg/archiver/walker.go) sends the root
 * itself first (relative name "."), then its direct entries. Only a reply that contains the root as a
 * directory, and no entry with an error, says anything.
 */
export function dataDirFromListing(files: ListedFile[]): DataDirEvidence {
  const failed = files.find((f) => f.error !== '');
  if (failed) return { kind: 'unknown', why: `listing ${failed.name || ETCD_DATA_DIR} failed: ${failed.error}` };
  const root = files.find((f) => f.relativeName === '.' || f.name === ETCD_DATA_DIR);
  if (!root) return { kind: 'unknown', why: files.length === 0 ? 'empty reply to the listing' : `the listing did not include ${ETCD_DATA_DIR} itself` };
  if (!root.isDir) return { kind: 'unknown', why: `${ETCD_DATA_DIR} is not a directory` };
  const entries = files.filter((f) => f !== root).map((f) => f.relativeName || f.name);
  return entries.length === 0 ? { kind: 'empty' } : { kind: 'has-data', entries: entries.sort() };
}

/** "Preparing: Running pre state", for logs. */
export function describeService(e: EtcdServiceEvidence): string {
  if (e.kind === 'unknown') return e.fact ? `${e.fact.state}${e.fact.lastEvent ? `: ${e.fact.lastEvent}` : ''} (${e.why})` : e.why;
  return `${e.fact.state}${e.fact.lastEvent ? `: ${e.fact.lastEvent}` : ''}`;
}

export function describeDataDir(d: DataDirEvidence): string {
  switch (d.kind) {
    case 'empty':
      return `${ETCD_DATA_DIR} empty`;
    case 'has-data':
      return `${ETCD_DATA_DIR} holds ${d.entries.join(', ')}`;
    case 'unknown':
      return `${ETCD_DATA_DIR} unknown (${d.why})`;
  }
}

/** One line per node for the log: "Preparing: Running pre state; /var/lib/etcd empty". */
export function describeEtcd(e: EtcdEvidence): string {
  return `${describeService(e.service)}; ${describeDataDir(e.dataDir)}`;
}

/** The evidence of a node whose questions were not answered. */
export function unknownEtcd(why: string): EtcdEvidence {
  return { service: { kind: 'unknown', why }, dataDir: { kind: 'unknown', why } };
}
