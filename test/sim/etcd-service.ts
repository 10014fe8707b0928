// etcd's service as machined runs it, and its data directory as MachineService List shows it.
//
// Talos (internal/app/machined/pkg/system/service_runner.go Run, system.go, services/etcd.go):
//   Starting "Starting service" → Waiting "Waiting for <conditions>" (time sync, network, etcd spec; the
//   "cri" service up) → Preparing "Running pre state" (PreFunc: image pull with retries up to PullTimeout,
//   then, ONLY with an empty data directory and no Bootstrap, the join loop of EtcdJoinTimeout = 30 min)
//   → Preparing "Creating service runner" → Running. A failed PreFunc ends the runner: Failed "Failed to
//   run pre stage: ..."; etcd stays Failed until the node reboots (BootTimeout = 70 min fails the boot).
//   Bootstrap (v1alpha1_server.go:412-452, services/etcd.go:798-840) stops etcd (its runner ends Finished
//   "Service finished successfully", system.go:195), marks it Finished "Bootstrap requested", unloads it
//   and starts a new etcd service in bootstrap mode, all before the call returns. The new runner keeps an
//   event history of its own (service_runner.go:55-66), so once Bootstrap has returned ServiceList shows
//   Starting → Waiting → Preparing "Running pre state" → Preparing "Creating service runner" → Running, never
//   "Bootstrap requested". The data directory is written only once the etcd process starts; until then
//   the request lives in machined's memory (a reboot loses it: the boot loads a joining etcd again,
//   v1alpha1_sequencer_tasks.go:398).
// The simulator scales the durations (settings), never the order.
import type { SimNode } from './node.ts';

export interface EtcdServiceView {
  state: string;
  /** Newest event last, as machined keeps them. */
  events: { msg: string; state: string }[];
}

/** Talos's PreFunc error after the join loop gives up (services/etcd.go buildInitialCluster). */
export const JOIN_TIMEOUT_MESSAGE = 'Failed to run pre stage: failed to build initial etcd cluster: timeout';

const ev = (state: string, msg: string) => ({ state, msg });

/** etcd's state on a control plane, derived from the node's etcd facts and how long it has been in them. */
export function etcdServiceView(node: SimNode, now = Date.now()): EtcdServiceView {
  const e = node.etcd;
  const starting = [ev('Starting', 'Starting service')];
  if (e.running) return { state: 'Running', events: [...starting, ev('Preparing', 'Running pre state'), ev('Preparing', 'Creating service runner'), ev('Running', 'Started task etcd')] };
  if (!node.timeSynced) return { state: 'Waiting', events: [...starting, ev('Waiting', 'Waiting for time sync, network, etcd spec')] };
  const waited = [...starting, ev('Waiting', 'Waiting for service "cri" to be "up", time sync, network, etcd spec')];
  if (e.bootstrapAcceptedAt !== null && now - e.bootstrapAcceptedAt < node.world.settings.bootstrapStopVisibleMs) {
    // The stopped joining etcd, still listed while the Bootstrap call runs (machine-service.ts bootstrap).
    return {
      state: 'Finished',
      events: [...waited, ev('Preparing', 'Running pre state'), ev('Finished', 'Service finished successfully'), ev('Finished', 'Bootstrap requested')],
    };
  }
  if (e.bootstrapAcceptedAt !== null || e.dataWritten) {
    // The bootstrap-mode (or, with data, the restarted) runner's own history: image pull (skipped when
    // pulled already), then the runner: still Preparing until the process runs.
    return { state: 'Preparing', events: [...waited, ev('Preparing', 'Running pre state')] };
  }
  if (e.preparingSince !== null && now - e.preparingSince >= node.world.settings.joinTimeoutMs) {
    return { state: 'Failed', events: [...waited, ev('Preparing', 'Running pre state'), ev('Failed', JOIN_TIMEOUT_MESSAGE)] };
  }
  return { state: 'Preparing', events: [...waited, ev('Preparing', 'Running pre state')] };
}

/** One machine.FileInfo as Talos's walker sends it (pkg/archiver/walker.go; the root first, relative name "."). */
export interface FileInfoMessage {
  metadata: null;
  name: string;
  relative_name: string;
  is_dir: boolean;
  size: string;
  mode: number;
  modified: string;
  error: string;
}

const dirMode = 0o700 | 0x80000000; // os.ModeDir | 0700, as Go's FileMode bits arrive in FileInfo.mode

/** MachineService List of `root` without recursion on this node; undefined when the path does not exist. */
export function listDirectory(node: SimNode, root: string): FileInfoMessage[] | undefined {
  const clean = (root.startsWith('/') ? root : `/${root}`).replace(/\/+$/, '') || '/';
  const file = (name: string, rel: string, isDir: boolean): FileInfoMessage => ({
    metadata: null,
    name,
    relative_name: rel,
    is_dir: isDir,
    size: isDir ? '4096' : '0',
    mode: isDir ? dirMode : 0o600,
    modified: String(Math.floor(Date.now() / 1000)),
    error: '',
  });
  if (clean === '/var/lib/etcd') {
    if (!node.isControlPlane) return undefined;
    const entries = node.etcd.dataWritten ? [file('/var/lib/etcd/member', 'member', true)] : [];
    return [file('/var/lib/etcd', '.', true), ...entries];
  }
  if (clean === '/var/lib') return [file('/var/lib', '.', true), ...(node.isControlPlane ? [file('/var/lib/etcd', 'etcd', true)] : [])];
  return undefined;
}
