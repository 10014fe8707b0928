// Extension services as machined's service runner runs them (restart kinds from the service spec):
//  - internal/app/machined/pkg/system/services/extension.go:216-221: restart always → Forever,
//    never → Once, untilSuccess → UntilSuccess;
//  - runner/containerd/containerd.go:231 Running "Started task <id> (PID n) for container <id>";
//    :262 a non-zero exit is the error `task "<id>" failed: exit code N (last log "...")`;
//  - runner/restart/restart.go:127-156: UntilSuccess returns on a clean exit and otherwise logs Waiting
//    "Error running <runner>, going to restart until it succeeds: <err>" and restarts after
//    RestartInterval (5 s, :80); Forever restarts after either outcome; Once returns the error;
//  - system.go:193-205: a runner that returns nil ends Finished "Service finished successfully"; an error
//    ends Failed with the error, first letter upper-cased (service_runner.go wraps it "failed running
//    service: error running service: ...").
// Time may be scaled (restartIntervalMs); the order of states is Talos's.
import type { SimNode } from './node.ts';

export type RestartKind = 'always' | 'never' | 'untilSuccess';

export interface ExtensionServiceState {
  state: 'Running' | 'Waiting' | 'Finished' | 'Failed';
  events: { msg: string; state: string }[];
  restart: RestartKind;
  /** Bumped at every (re)start, for the PID in the Running message. */
  starts: number;
}

const RESTART_TYPE: Record<RestartKind, string> = { always: 'Forever', never: 'Once', untilSuccess: 'UntilSuccess' };

function runnerName(id: string, restart: RestartKind): string {
  return `Restart(${RESTART_TYPE[restart]}, Containerd(${id}))`;
}

export function startedState(id: string, restart: RestartKind, starts = 1): ExtensionServiceState {
  return {
    state: 'Running',
    restart,
    starts,
    events: [
      { msg: 'Starting service', state: 'Starting' },
      { msg: 'Waiting for service "containerd" to be "up", time sync, network', state: 'Waiting' },
      { msg: 'Running pre state', state: 'Preparing' },
      { msg: 'Creating service runner', state: 'Preparing' },
      { msg: `Started task ${id} (PID ${4000 + starts}) for container ${id}`, state: 'Running' },
    ],
  };
}

/**
 * The service's process exited with `code` (its last log line `lastLog`). Returns the state now, and
 * whether the runner restarts it after RestartInterval.
 */
export function processExited(s: ExtensionServiceState, id: string, code: number, lastLog = ''): { next: ExtensionServiceState; restarts: boolean } {
  const err = code === 0 ? undefined : `task "${id}" failed: exit code ${code} (last log "${lastLog}")`;
  const runner = runnerName(id, s.restart);
  const add = (state: ExtensionServiceState['state'], msg: string): ExtensionServiceState => ({ ...s, state, events: [...s.events, { msg, state }] });
  switch (s.restart) {
    case 'untilSuccess':
      if (!err) return { next: add('Finished', 'Service finished successfully'), restarts: false };
      return { next: add('Waiting', `Error running ${runner}, going to restart until it succeeds: ${err}`), restarts: true };
    case 'always':
      return { next: add('Waiting', err ? `Error running ${runner}, going to restart forever: ${err}` : `Runner ${runner} exited without error, going to restart it`), restarts: true };
    case 'never':
      if (!err) return { next: add('Finished', 'Service finished successfully'), restarts: false };
      return { next: add('Failed', `Failed running service: error running service: ${err}`), restarts: false };
  }
}

/** Tracks each extension service of a node; the simulator calls `exited` when a test says the process ended. */
export class ExtensionServices {
  private readonly states = new Map<string, ExtensionServiceState>();
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly node: SimNode) {}

  /** The service's state; a service never reported on runs since boot. */
  get(id: string, restart: RestartKind = 'untilSuccess'): ExtensionServiceState {
    return this.states.get(id) ?? startedState(id, restart);
  }

  /** The process of `ext-<name>` exited with `code`; restarts follow the restart kind after `restartIntervalMs`. */
  exited(id: string, code: number, restartIntervalMs: number, restart: RestartKind = 'untilSuccess', lastLog = ''): ExtensionServiceState {
    const { next, restarts } = processExited(this.get(id, restart), id, code, lastLog);
    this.states.set(id, next);
    if (restarts) {
      const t = setTimeout(() => {
        this.timers.delete(t);
        const now = this.states.get(id);
        if (!now || now.state !== 'Waiting') return;
        const again = startedState(id, now.restart, now.starts + 1);
        this.states.set(id, { ...again, events: [...now.events, ...again.events.slice(-1)] });
        this.node.world.changed();
      }, restartIntervalMs);
      this.timers.add(t);
    }
    this.node.world.changed();
    return next;
  }

  /** A reboot: every service starts over. */
  reset(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.states.clear();
  }
}
