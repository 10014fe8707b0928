// machine.MachineService as apid/machined answer it, with Talos's check orders, codes and messages.
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { parseAllDocuments, stringify } from 'yaml';
import { etcdTarget } from './etcd-endpoints.ts';
import { serviceStatuses } from './node-services.ts';
import { listDirectory } from './etcd-service.ts';
import type { SimNode } from './node.ts';
import { issueClientCertificate, talosKeyPem } from './pki.ts';
import { parseRoles, ROLE } from './rbac.ts';
import { hang, RpcError, serverStream, sleep, unary, type CallContext } from './rpc.ts';
import type { EtcdClusterRecord } from './types.ts';

const M = (name: string) => `/machine.MachineService/${name}`;

// Loosely typed request/response shapes: proto-loader objects with snake_case fields.
type Msg = Record<string, unknown>;

function timestamp(ms: number): { seconds: string; nanos: number } {
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** machinehelper.CheckControlplane */
function checkControlPlane(node: SimNode, apiName: string): void {
  if (!node.isControlPlane) throw new RpcError(status.UNIMPLEMENTED, `${apiName} is only available on control plane nodes`);
}

/** Waits up to `ms` for `ok`, as Bootstrap waits (5 s in Talos) for the time-sync condition. */
async function waitFor(ok: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!ok()) {
    if (Date.now() >= until) return false;
    await sleep(Math.min(25, Math.max(1, until - Date.now())));
  }
  return true;
}

async function bootstrap(ctx: CallContext, request: Msg): Promise<Msg> {
  const node = ctx.node;
  // 1. Runtime.IsBootstrapAllowed: CRI running and healthy, no pending reboot.
  if (!node.criReady || node.pendingReboot) throw new RpcError(status.FAILED_PRECONDITION, 'bootstrap is not available yet');
  // 2. Control planes only.
  if (!node.isControlPlane) {
    if (node.legacyNonControlPlaneError) {
      throw new RpcError(status.FAILED_PRECONDITION, 'bootstrap can only be performed on a control plane node');
    }
    throw new RpcError(status.UNIMPLEMENTED, 'bootstrap is only available on control plane nodes');
  }
  // 3. cluster.etcd.ca present.
  if (!node.etcdConfigured) throw new RpcError(status.INVALID_ARGUMENT, 'etcd is not configured, bootstrap is not possible');
  // 4. Time synchronised (machined waits for the condition before giving up).
  if (!(await waitFor(() => node.timeSynced, node.world.settings.timeSyncWaitMs))) {
    throw new RpcError(status.FAILED_PRECONDITION, 'time is not in sync yet');
  }
  // 5. The only guard against a second cluster: this node's own /var/lib/etcd.
  if (node.etcd.dataWritten) throw new RpcError(status.ALREADY_EXISTS, 'etcd data directory is not empty');
  if (request.recover_etcd === true) {
    throw new Error('failed to recover etcd: no snapshot was uploaded with EtcdRecover');
  }
  // 6. A new one-member etcd cluster, whatever the other control planes are doing. BootstrapEtcd
  // (services/etcd.go:798-840) stops the joining etcd and marks it Finished "Bootstrap requested"
  // (:806-816), then unloads it and starts a bootstrap-mode etcd whose new runner has already reported
  // "Starting service" when the call returns (:830-836; system.go:107-142, 147-213). So a reader sees
  // "Bootstrap requested" only while this call runs; bootstrapStopVisibleMs is how long that lasts here.
  node.world.formCluster(node);
  const stopVisibleMs = node.world.settings.bootstrapStopVisibleMs;
  if (stopVisibleMs > 0) await sleep(stopVisibleMs);
  return { messages: [{ metadata: null }] };
}

function membersReply(cluster: EtcdClusterRecord): Msg {
  return {
    messages: [
      {
        metadata: null,
        legacy_members: cluster.members.map((m) => m.hostname),
        members: cluster.members.map((m) => ({
          id: m.id,
          hostname: m.hostname,
          peer_urls: m.peerUrls,
          client_urls: m.clientUrls,
          is_learner: m.isLearner,
        })),
      },
    ],
  };
}

async function etcdMemberList(ctx: CallContext, request: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Promise<Msg> {
  checkControlPlane(ctx.node, 'member list');
  const target = etcdTarget(ctx.node, request.query_local === true);
  // Plain Go errors: they reach the client as Unknown.
  if (target.kind === 'no-endpoints') throw new Error('no controlplane endpoints discovered yet');
  if (target.kind === 'unreachable') return hang(call);
  return membersReply(target.cluster);
}

async function etcdStatus(ctx: CallContext, _request: Msg, call: grpc.ServerUnaryCall<Msg, Msg>): Promise<Msg> {
  const node = ctx.node;
  checkControlPlane(node, 'etcd status');
  const cluster = node.etcd.running && node.etcd.clusterId ? node.world.etcdCluster(node.etcd.clusterId) : undefined;
  if (!cluster || !node.etcd.memberId) return hang(call);
  const age = Math.max(0, Date.now() - cluster.formedAt.getTime());
  const raftIndex = String(4 + cluster.members.length * 3 + Math.floor(age / 100));
  return {
    messages: [
      {
        metadata: null,
        member_status: {
          protocol_version: '3.6.5',
          db_size: String(20480 + cluster.members.length * 4096),
          db_size_in_use: String(16384 + cluster.members.length * 2048),
          leader: node.world.leaderId(cluster),
          raft_index: raftIndex,
          raft_term: String(1 + cluster.members.length),
          raft_applied_index: raftIndex,
          errors: node.world.hasLeader(cluster) ? [] : ['etcdserver: no leader'],
          is_learner: false,
          member_id: node.etcd.memberId,
          storage_version: '3.6.0',
        },
      },
    ],
  };
}

function version(ctx: CallContext): Msg {
  const node = ctx.node;
  return {
    messages: [
      {
        metadata: null,
        // `built` is empty on real nodes (release builds leave it unset).
        version: { tag: node.talosVersion, sha: '2b4e2a9c', built: '', go_version: 'go1.25.4', os: 'linux', arch: 'amd64' },
        platform: { name: 'metal', mode: 'metal' },
        // Only set when the node has a machine config.
        features: node.maintenance ? null : { rbac: true },
      },
    ],
  };
}

function serviceList(ctx: CallContext): Msg {
  const boot = ctx.node.bootTime * 1000;
  return {
    messages: [
      {
        metadata: null,
        services: serviceStatuses(ctx.node).map((s, i) => ({
          id: s.id,
          state: s.state,
          events: { events: s.events.map((e, j) => ({ msg: e.msg, state: e.state, ts: timestamp(boot + 2000 + i * 100 + j * 10) })) },
          health: { unknown: s.unknown, healthy: s.healthy, last_message: s.lastMessage, last_change: timestamp(boot + 3000 + i * 100) },
        })),
      },
    ],
  };
}

function durationMs(d: unknown): number {
  const v = (d ?? {}) as { seconds?: string | number; nanos?: number };
  return Number(v.seconds ?? 0) * 1000 + Math.floor((v.nanos ?? 0) / 1e6);
}

function generateClientConfiguration(ctx: CallContext, request: Msg): Msg {
  const node = ctx.node;
  checkControlPlane(node, 'generate client configuration');
  const ttl = durationMs(request.crt_ttl);
  if (ttl <= 0) throw new RpcError(status.INVALID_ARGUMENT, 'crt_ttl should be positive');
  const roles = parseRoles((request.roles as string[] | undefined) ?? []);
  const cert = issueClientCertificate(node.identity.osCa, { roles, validForMs: ttl });
  const keyPem = talosKeyPem(cert.key);
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const context = roles.length === 1 ? `${(roles[0] as string).replace(/^os:/, '')}@${node.identity.clusterName}` : node.identity.clusterName;
  const talosconfig = stringify(
    { context, contexts: { [context]: { ca: b64(node.identity.osCa.certPem), crt: b64(cert.certPem), key: b64(keyPem) } } },
    { indent: 4, lineWidth: 0 },
  );
  return {
    messages: [
      {
        metadata: null,
        ca: Buffer.from(node.identity.osCa.certPem),
        crt: Buffer.from(cert.certPem),
        key: Buffer.from(keyPem),
        talosconfig: Buffer.from(talosconfig),
      },
    ],
  };
}

function applyConfiguration(ctx: CallContext, request: Msg): Msg {
  const node = ctx.node;
  const inMaintenance = node.maintenance;
  if (!inMaintenance && !ctx.roles.includes(ROLE.admin)) throw new RpcError(status.PERMISSION_DENIED, 'not authorized');
  const data = Buffer.isBuffer(request.data) ? request.data : Buffer.alloc(0);
  // configloader: every document must parse and be either the v1alpha1 config or a kinded document.
  const docs = parseAllDocuments(data.toString('utf8'));
  const list = Array.isArray(docs) ? docs : [docs];
  const broken = list.find((d) => d.errors.length > 0);
  if (broken) throw new RpcError(status.INVALID_ARGUMENT, `failed to parse config: ${broken.errors[0]?.message ?? 'invalid YAML'}`);
  const values = list.map((d) => d.toJS() as unknown);
  for (const v of values) {
    const doc = v as Msg | null;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc) || !(doc.version === 'v1alpha1' || typeof doc.kind === 'string')) {
      throw new RpcError(status.INVALID_ARGUMENT, 'failed to decode config: document is neither a v1alpha1 config nor a kind/apiVersion document');
    }
  }
  const hasV1alpha1 = values.some((v) => (v as Msg).version === 'v1alpha1');
  if (!inMaintenance && !hasV1alpha1) {
    throw new RpcError(
      status.INVALID_ARGUMENT,
      "the applied machine configuration doesn't contain v1alpha1 config, did you mean to patch the machine config instead?",
    );
  }
  let mode = String(request.mode ?? 'REBOOT');
  if (mode === 'REBOOT') {
    if (!inMaintenance) throw new RpcError(status.UNIMPLEMENTED, 'the REBOOT mode is not supported, please use AUTO or NO_REBOOT modes instead');
    mode = 'NO_REBOOT';
  }
  let details: string;
  switch (mode) {
    case 'AUTO':
    case 'NO_REBOOT':
    case 'TRY':
      if (mode === 'AUTO') mode = 'NO_REBOOT';
      details = 'Applied configuration without a reboot';
      break;
    case 'STAGED':
      details = 'Staged configuration to be applied after the next reboot';
      break;
    default:
      throw new RpcError(status.INVALID_ARGUMENT, `incorrect mode '${mode}' specified for the apply config call`);
  }
  if (request.dry_run === true) {
    return { messages: [{ metadata: null, warnings: [], mode, mode_details: `Dry run summary:\n${details} (skipped in dry-run).\nNo changes.` }] };
  }
  node.world.configurationApplied(node, mode, ctx.cn, data);
  return { messages: [{ metadata: null, warnings: [], mode, mode_details: details }] };
}

async function logs(ctx: CallContext, request: Msg, call: grpc.ServerWritableStream<Msg, Msg>): Promise<void> {
  const id = String(request.id ?? '');
  if (request.namespace !== 'system' && id !== 'kubelet') throw new Error(`container "${id}" not found`);
  const tail = Number(request.tail_lines ?? 0);
  const lines = ctx.node.logLines(id);
  const send = (line: string) => call.write({ metadata: null, bytes: Buffer.from(line + '\n') });
  for (const line of tail >= 0 ? lines.slice(Math.max(0, lines.length - tail)) : lines) send(line);
  if (!request.follow) return;
  const stop = ctx.node.onLog(id, send);
  try {
    await hang(call);
  } finally {
    stop();
  }
}

/** MachineService List (v1alpha1_server.go List over pkg/archiver/walker.go): the root, then its entries. */
async function list(ctx: CallContext, request: Msg, call: grpc.ServerWritableStream<Msg, Msg>): Promise<void> {
  const root = String(request.root ?? '/');
  const files = listDirectory(ctx.node, root);
  // Walker's os.Lstat of a missing root fails the call before anything is sent.
  if (!files) throw new Error(`lstat ${root}: no such file or directory`);
  for (const f of files) call.write(f as unknown as Msg);
}

export function machineHandlers(node: SimNode): grpc.UntypedServiceImplementation {
  return {
    ApplyConfiguration: unary<Msg, Msg>(node, M('ApplyConfiguration'), async (ctx, req) => applyConfiguration(ctx, req)),
    Bootstrap: unary<Msg, Msg>(node, M('Bootstrap'), bootstrap),
    EtcdMemberList: unary<Msg, Msg>(node, M('EtcdMemberList'), etcdMemberList),
    EtcdStatus: unary<Msg, Msg>(node, M('EtcdStatus'), etcdStatus),
    GenerateClientConfiguration: unary<Msg, Msg>(node, M('GenerateClientConfiguration'), async (ctx, req) => generateClientConfiguration(ctx, req)),
    Hostname: unary<Msg, Msg>(node, M('Hostname'), async (ctx) => ({ messages: [{ metadata: null, hostname: ctx.node.name }] })),
    Logs: serverStream<Msg, Msg>(node, M('Logs'), logs),
    List: serverStream<Msg, Msg>(node, M('List'), list),
    ServiceList: unary<Msg, Msg>(node, M('ServiceList'), async (ctx) => serviceList(ctx)),
    SystemStat: unary<Msg, Msg>(node, M('SystemStat'), async (ctx) => ({
      // uint64 as a decimal string: exact, whatever the client's long representation.
      messages: [{ metadata: null, boot_time: String(ctx.node.bootTime) }],
    })),
    Version: unary<Msg, Msg>(node, M('Version'), async (ctx) => version(ctx)),
  };
}
