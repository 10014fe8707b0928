// The members source's I/O: a COSI Watch of Members on this node's own apid, kept open for the daemon's
// life. The Watch sends the current members, then BOOTSTRAPPED, then each change; a member that brings a
// new control-plane address rings the runner's doorbell so a discovery round starts at once.
// The stream ending or failing makes the source "unknown" (never "no members") until a new stream has
// sent its contents again; reconnects back off exponentially with jitter. While the Watch is not synced,
// each round falls back to a plain List, so members still count when only the Watch is broken.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { backoffDelay, type BackoffPolicy } from '../util/backoff.ts';
import type { Logger } from '../log.ts';
import { codeName } from '../talos/error-class.ts';
import { NodeClient, TalosCallError } from '../talos/node-client.ts';
import { sleep, Stopped } from '../util/sleep.ts';
import type { Wakeup } from '../util/wakeup.ts';
import { applyMemberEvent, controlPlaneAddresses, emptyWatchState, MEMBERS, newAddresses, parseMember, type Member, type EventType, type WatchState } from './members.ts';

export type MembersSnapshot =
  | { kind: 'known'; members: Member[]; via: 'watch' | 'list' }
  | { kind: 'unknown'; reason: string };

export interface MembersWatchOptions {
  self: string;
  port: number;
  /** Fresh credentials per connection: client certificates are re-minted before they expire. */
  credentials: () => ChannelCredentials;
  /** Deadline of the fallback List. */
  listDeadlineMs: number;
  log: Logger;
  wakeup: Wakeup;
  signal: AbortSignal;
  random: () => number;
  backoff?: BackoffPolicy;
}

const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 500, maxMs: 30_000, factor: 2 };
/** A stream that stayed up this long was healthy: the next failure starts the backoff from the beginning. */
const HEALTHY_STREAM_MS = 30_000;

export class MembersWatch {
  private state: WatchState = emptyWatchState();
  private lastReason = 'watch not started yet';
  private announced: string[] = [];
  private loop: Promise<void> | undefined;

  constructor(private readonly opts: MembersWatchOptions) {}

  start(): void {
    this.loop ??= this.run().catch((e) => {
      if (!(e instanceof Stopped)) this.opts.log.error({ event: 'members-watch-failed', error: String(e) }, `members watch stopped: ${String(e)}`);
    });
  }

  /** Members as of now: the Watch's view when synced, else a fresh List, else unknown with the reason. */
  async snapshot(): Promise<MembersSnapshot> {
    if (this.state.synced) return { kind: 'known', members: [...this.state.members.values()], via: 'watch' };
    const client = new NodeClient(this.opts.self, this.opts.port, this.opts.credentials(), this.opts.listDeadlineMs);
    try {
      const listed = await client.listResources(MEMBERS);
      const members = listed.map((r) => parseMember(r.id, r.spec)).filter((m): m is Member => m !== undefined);
      return { kind: 'known', members, via: 'list' };
    } catch (e) {
      const why = e instanceof TalosCallError ? `${codeName(e.code)} ${e.details}` : String(e);
      return { kind: 'unknown', reason: `watch: ${this.lastReason}; list: ${why}` };
    } finally {
      client.close();
    }
  }

  private async run(): Promise<void> {
    const { log, signal } = this.opts;
    const policy = this.opts.backoff ?? DEFAULT_BACKOFF;
    let failures = 0;
    let lastLogged = '';
    while (!signal.aborted) {
      const startedAt = performance.now();
      const error = await this.watchOnce();
      if (signal.aborted) return;
      this.state = { members: this.state.members, synced: false };
      this.lastReason = error;
      if (performance.now() - startedAt >= HEALTHY_STREAM_MS) failures = 0;
      const delay = backoffDelay(policy, failures++, this.opts.random);
      // The same failure repeating (apid restarting) is one warning, then debug lines.
      const level = error === lastLogged ? 'debug' : 'warn';
      lastLogged = error;
      log[level]({ event: 'members-watch-retry', reason: error, retryInMs: delay }, `members watch ended (${error}); members unknown until it is back; retrying in ${delay}ms`);
      await sleep(delay, signal);
    }
  }

  /** One Watch stream, until it ends; resolves with why it ended. */
  private watchOnce(): Promise<string> {
    const { self, port, signal } = this.opts;
    const client = new NodeClient(self, port, this.opts.credentials(), this.opts.listDeadlineMs);
    const fresh = emptyWatchState();
    return new Promise<string>((resolve) => {
      let cancel: (() => void) | undefined;
      let done = false;
      const finish = (reason: string) => {
        if (done) return;
        done = true;
        signal.removeEventListener('abort', onAbort);
        cancel?.();
        client.close();
        resolve(reason);
      };
      const onAbort = () => finish('stopping');
      signal.addEventListener('abort', onAbort, { once: true });
      cancel = client.watchKind(MEMBERS, {
        event: (e) => {
          // Events already buffered when the stream was cancelled belong to a view that is over.
          if (done) return;
          const wasSynced = fresh.synced;
          const result = applyMemberEvent(fresh, { type: e.type as EventType, id: e.resource.id, spec: e.resource.spec, ...(e.error ? { error: e.error } : {}) });
          if (result.kind === 'failed') return finish(result.reason);
          if (!wasSynced && fresh.synced) {
            // The new stream's contents replace whatever an earlier stream had seen.
            this.state = fresh;
            this.opts.log.debug({ event: 'members-watch-synced', members: fresh.members.size }, `members watch synced: ${fresh.members.size} member(s)`);
          }
          if (fresh.synced) this.announce();
        },
        end: (err) => finish(err ? `${codeName(err.code)} ${err.details}` : 'stream ended by the server'),
      });
    });
  }

  /** Rings the doorbell when a control-plane address appears that was not known before. */
  private announce(): void {
    const now = controlPlaneAddresses(this.state.members.values(), this.opts.self);
    const added = newAddresses(this.announced, now);
    this.announced = now;
    if (added.length === 0) return;
    this.opts.log.info({ event: 'members-new', addresses: added }, `new control-plane member address(es) ${added.join(', ')}: starting a discovery round now`);
    this.opts.wakeup.ring(`member ${added.join(', ')}`);
  }
}
