// Typed calls to one node's apid. Every call has a deadline; errors keep their gRPC code so callers can
// classify them (src/talos/error-class.ts) instead of guessing from text.
import * as grpc from '@grpc/grpc-js';
import YAML from 'yaml';
import { CHANNEL_OPTIONS } from './channel.ts';
import { closeAfterPendingResolution } from './close-channel.ts';
import { cosiStateClient, machineServiceClient } from './proto.ts';
import type { ResourceRef } from './resources.ts';

export class TalosCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: number,
    readonly details: string,
  ) {
    super(`${method}: ${details}`);
  }
}

export interface Resource {
  id: string;
  version: string;
  phase: string;
  spec: unknown;
}

export interface EtcdMemberInfo {
  id: string;
  hostname: string;
  isLearner: boolean;
  peerUrls: string[];
}

export interface ServiceState {
  id: string;
  state: string;
  healthy: boolean;
  /** The newest event's message ('' when the service has none). machined keeps events oldest first. */
  lastEvent: string;
}

/** One entry of MachineService List (machine.FileInfo). */
export interface FileEntry {
  name: string;
  relativeName: string;
  isDir: boolean;
  error: string;
}

interface ReplyMetadata {
  error?: string;
  status?: { code?: number; message?: string } | null;
}

type Callback = (err: grpc.ServiceError | null, reply: unknown) => void;
type StreamMethod = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions) => grpc.ClientReadableStream<unknown>;

/** One event of a COSI Watch, its resource already decoded (tombstones have a null spec). */
export interface WatchEvent {
  type: string;
  resource: Resource;
  error?: string;
}
type UnaryMethod = (req: unknown, meta: grpc.Metadata, opts: grpc.CallOptions, cb: Callback) => grpc.ClientUnaryCall;

export interface ApplyReply {
  mode: string;
  modeDetails: string;
  warnings: string[];
}

export class NodeClient {
  private readonly channel: grpc.Channel;
  private readonly machine: grpc.Client;
  private readonly state: grpc.Client;

  private readonly callMetadata: Record<string, string>;

  /**
   * `options.metadata` goes with every call (e.g. talosctl's one-to-one proxying: `node` = the node an
   * endpoint forwards to); `options.target` replaces `address:port` as the channel target (e.g. several
   * endpoints as `ipv4:a:p,b:p`) and `options.channelOptions` adds to the channel's options.
   */
  constructor(
    readonly address: string,
    port: number,
    credentials: grpc.ChannelCredentials,
    private readonly deadlineMs: number,
    options: { metadata?: Record<string, string>; target?: string; channelOptions?: grpc.ChannelOptions } = {},
  ) {
    const target = options.target ?? `${address}:${port}`;
    const channelOptions = { ...CHANNEL_OPTIONS, ...options.channelOptions };
    this.callMetadata = options.metadata ?? {};
    this.channel = new grpc.Channel(target, credentials, channelOptions);
    const Machine = machineServiceClient();
    const State = cosiStateClient();
    this.machine = new Machine(target, credentials, { ...channelOptions, channelOverride: this.channel });
    this.state = new State(target, credentials, { ...channelOptions, channelOverride: this.channel });
  }

  private metadata(): grpc.Metadata {
    const meta = new grpc.Metadata();
    for (const [k, v] of Object.entries(this.callMetadata)) meta.set(k, v);
    return meta;
  }

  private closed = false;

  /**
   * Releases the channel and its connection. Safe with calls in flight (they end CANCELLED) and idempotent;
   * the grpc-js close itself is deferred by one immediate (src/talos/close-channel.ts says why).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeAfterPendingResolution(() => {
      this.machine.close();
      this.state.close();
      this.channel.close();
    });
  }

  private unary<T>(client: grpc.Client, method: string, request: unknown, deadlineMs = this.deadlineMs): Promise<T> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    return new Promise<T>((resolve, reject) => {
      fn.call(client, request, this.metadata(), { deadline: Date.now() + deadlineMs }, (err, reply) => {
        if (err) reject(new TalosCallError(method, err.code, stableDetails(err)));
        else resolve(reply as T);
      });
    });
  }

  /** The first message of a Talos `{ messages: [...] }` reply; an error carried in its metadata is raised. */
  private async first<T>(method: string, request: unknown, deadlineMs?: number): Promise<T> {
    const reply = await this.unary<{ messages: (T & { metadata?: ReplyMetadata | null })[] }>(this.machine, method, request, deadlineMs);
    const message = reply.messages[0];
    if (!message) throw new TalosCallError(method, grpc.status.UNKNOWN, 'empty reply');
    const meta = message.metadata;
    if (meta?.error) throw new TalosCallError(method, meta.status?.code ?? grpc.status.UNKNOWN, meta.error);
    return message;
  }

  async version(): Promise<{ tag: string; platform: string }> {
    const v = await this.first<{ version?: { tag: string }; platform?: { name: string } }>('Version', {});
    return { tag: v.version?.tag ?? '', platform: v.platform?.name ?? '' };
  }

  async bootTime(): Promise<bigint> {
    const s = await this.first<{ boot_time: string }>('SystemStat', {});
    return BigInt(s.boot_time);
  }

  async hostname(): Promise<string> {
    return (await this.first<{ hostname: string }>('Hostname', {})).hostname;
  }

  async services(): Promise<ServiceState[]> {
    const list = await this.first<{ services: { id: string; state: string; health?: { healthy: boolean }; events?: { events?: { msg?: string }[] } }[] }>('ServiceList', {});
    return list.services.map((s) => {
      const events = s.events?.events ?? [];
      return { id: s.id, state: s.state, healthy: s.health?.healthy ?? false, lastEvent: events[events.length - 1]?.msg ?? '' };
    });
  }

  async etcdMembers(queryLocal: boolean, deadlineMs?: number): Promise<EtcdMemberInfo[]> {
    const m = await this.first<{ members: { id: string; hostname: string; is_learner: boolean; peer_urls: string[] }[] }>(
      'EtcdMemberList',
      { query_local: queryLocal },
      deadlineMs,
    );
    return m.members.map((x) => ({ id: x.id, hostname: x.hostname, isLearner: x.is_learner, peerUrls: x.peer_urls }));
  }

  async bootstrap(deadlineMs?: number): Promise<void> {
    await this.first('Bootstrap', { recover_etcd: false, recover_skip_hash_check: false }, deadlineMs);
  }

  /**
   * ApplyConfiguration. The proto default mode is REBOOT (deprecated, refused outside maintenance), so the
   * mode is always sent explicitly.
   */
  async applyConfiguration(data: Buffer, mode: 'AUTO' | 'NO_REBOOT' | 'STAGED' = 'AUTO', dryRun = false): Promise<ApplyReply> {
    const m = await this.first<{ mode: string; mode_details: string; warnings: string[] }>('ApplyConfiguration', { data, mode, dry_run: dryRun });
    return { mode: m.mode, modeDetails: m.mode_details, warnings: m.warnings ?? [] };
  }

  private stream(method: string, request: unknown, options: grpc.CallOptions): grpc.ClientReadableStream<unknown> {
    const fn = (this.state as unknown as Record<string, StreamMethod>)[method];
    if (!fn) throw new Error(`no method ${method}`);
    return fn.call(this.state, request, this.metadata(), options);
  }

  /** Every resource of a kind (COSI List, a server stream), within the client's deadline. */
  listResources(ref: { namespace: string; type: string }): Promise<Resource[]> {
    return new Promise((resolve, reject) => {
      const out: Resource[] = [];
      const call = this.stream('List', { namespace: ref.namespace, type: ref.type }, { deadline: Date.now() + this.deadlineMs });
      call.on('data', (m: { resource?: RawResource }) => {
        // A throw here would escape the stream's event handler and end the process: reject instead.
        try {
          if (m.resource) out.push(resourceFromReply(m.resource, 'List'));
        } catch (e) {
          call.cancel();
          reject(e);
        }
      });
      call.on('error', (err: grpc.ServiceError) => reject(new TalosCallError('List', err.code, stableDetails(err))));
      call.on('end', () => resolve(out));
    });
  }

  /**
   * A kind Watch with the current contents first (CREATED each, then BOOTSTRAPPED — api_version 1), then
   * every change. No deadline: it lasts until the caller cancels it or the stream breaks.
   */
  watchKind(ref: { namespace: string; type: string }, handlers: { event: (e: WatchEvent) => void; end: (error: TalosCallError | undefined) => void }): () => void {
    const call = this.stream('Watch', { namespace: ref.namespace, type: ref.type, options: { bootstrap_contents: true }, api_version: 1 }, {});
    let ended = false;
    const end = (error: TalosCallError | undefined) => {
      if (ended) return;
      ended = true;
      handlers.end(error);
    };
    call.on('data', (m: { event?: { event_type?: string; resource?: RawResource; error?: string }[] }) => {
      for (const e of m.event ?? []) {
        let resource: Resource;
        try {
          resource = resourceFromReply(e.resource ?? {}, 'Watch');
        } catch {
          // A spec that is not YAML is an odd server, not a reason to crash: the resource counts as unreadable.
          resource = { id: e.resource?.metadata?.id ?? '', version: '', phase: '', spec: null };
        }
        handlers.event({ type: String(e.event_type ?? ''), resource, ...(e.error ? { error: e.error } : {}) });
      }
    });
    call.on('error', (err: grpc.ServiceError) => end(new TalosCallError('Watch', err.code, stableDetails(err))));
    call.on('end', () => end(undefined));
    return () => call.cancel();
  }

  /**
   * MachineService List of one directory without recursion (os:reader may call it): the directory itself
   * (relative name ".") and its direct entries, as Talos's walker sends them (pkg/archiver/walker.go).
   * An error carried in a message's metadata is raised with its code.
   */
  listDirectory(root: string): Promise<FileEntry[]> {
    const fn = (this.machine as unknown as Record<string, StreamMethod>).List;
    if (!fn) throw new Error('no method List');
    return new Promise((resolve, reject) => {
      const out: FileEntry[] = [];
      const stream = fn.call(this.machine, { root, recurse: false }, new grpc.Metadata(), { deadline: Date.now() + this.deadlineMs });
      let failed: TalosCallError | undefined;
      stream.on('data', (m: { metadata?: ReplyMetadata | null; name?: string; relative_name?: string; is_dir?: boolean; error?: string }) => {
        if (m.metadata?.error) failed ??= new TalosCallError('List', m.metadata.status?.code ?? grpc.status.UNKNOWN, m.metadata.error);
        out.push({ name: m.name ?? '', relativeName: m.relative_name ?? '', isDir: m.is_dir === true, error: m.error ?? '' });
      });
      stream.on('error', (err: grpc.ServiceError) => reject(new TalosCallError('List', err.code, stableDetails(err))));
      stream.on('end', () => (failed ? reject(failed) : resolve(out)));
    });
  }

  /** The last `lines` lines a system service logged (machined's in-memory buffer), without following. */
  logTail(serviceId: string, lines: number): Promise<string[]> {
    const fn = (this.machine as unknown as Record<string, StreamMethod>).Logs;
    if (!fn) throw new Error('no method Logs');
    return new Promise((resolve, reject) => {
      let text = '';
      const request = { namespace: 'system', id: serviceId, driver: 'CONTAINERD', follow: false, tail_lines: lines };
      const stream = fn.call(this.machine, request, this.metadata(), { deadline: Date.now() + this.deadlineMs });
      stream.on('data', (m: unknown) => {
        const bytes = (m as { bytes?: Buffer }).bytes;
        if (bytes) text += Buffer.from(bytes).toString('utf8');
      });
      stream.on('error', (err: grpc.ServiceError) => reject(new TalosCallError('Logs', err.code, stableDetails(err))));
      stream.on('end', () => resolve(text.split('\n').filter((l) => l.trim() !== '')));
    });
  }

  /** A COSI resource, or undefined when apid says it does not exist. */
  async getResource(ref: ResourceRef, id = ref.id): Promise<Resource | undefined> {
    try {
      const reply = await this.unary<{ resource?: RawResource }>(this.state, 'Get', { namespace: ref.namespace, type: ref.type, id });
      return reply.resource ? resourceFromReply(reply.resource, 'Get') : undefined;
    } catch (e) {
      if (e instanceof TalosCallError && e.code === grpc.status.NOT_FOUND) return undefined;
      throw e;
    }
  }
}

/**
 * grpc-js appends per-call timings to deadline errors ("after 5.001s, LB pick: 0.003s"); they would make
 * every repeat of the same situation look new in the once-per-change logs.
 */
function stableDetails(err: grpc.ServiceError): string {
  if (err.code === grpc.status.DEADLINE_EXCEEDED) return 'deadline exceeded';
  return err.details || err.message;
}

export interface RawResource {
  metadata?: { id?: string; version?: string; phase?: string };
  spec?: { yaml_spec?: string };
}

/**
 * A COSI resource from its wire form. yaml_spec that is not YAML (or expands past the parser's alias limit)
 * throws TalosCallError(method, DATA_LOSS) that names its length, never its text. No YAML warning is
 * printed: it would quote the spec.
 */
export function resourceFromReply(raw: RawResource, method: string): Resource {
  const yamlSpec = raw.spec?.yaml_spec ?? '';
  let spec: unknown = null;
  if (yamlSpec !== '') {
    try {
      spec = YAML.parse(yamlSpec, { logLevel: 'error' });
    } catch {
      throw new TalosCallError(method, grpc.status.DATA_LOSS, `${raw.metadata?.id ?? ''}: yaml_spec is not valid YAML (${yamlSpec.length} characters)`);
    }
  }
  return { id: raw.metadata?.id ?? '', version: raw.metadata?.version ?? '', phase: raw.metadata?.phase ?? '', spec };
}
