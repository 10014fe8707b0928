// One simulated Talos node: its state (machine type, boot time, readiness flags, etcd membership), its
// apid endpoint (a gRPC server on its own loopback address), and the faults injected into it.
// Cluster-wide behaviour (etcd forming and joining) lives in the simulator, which every node reaches
// through the World interface.
import type { TLSSocket } from 'node:tls';
import { randomBytes, randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { cosiStateClient, machineServiceClient } from '../../src/talos/proto.ts';
import type { ClusterIdentity } from './cluster-identity.ts';
import { verifyClientCertificate } from './client-cert-policy.ts';
import { FaultPlan } from './faults.ts';
import { ExtensionServices } from './extension-services.ts';
import { cosiHandlers } from './cosi-service.ts';
import { machineHandlers } from './machine-service.ts';
import { nodeResources } from './node-resources.ts';
import { createCa, issueApidCertificate, type IssuedCertificate } from './pki.ts';
import type { Recorder } from './records.ts';
import { ResourceStore } from './resource-store.ts';
import type { CallContext } from './rpc.ts';
import { apidCredentials, TalosApiServer } from './tls-server.ts';
import type { EtcdClusterRecord, MachineType, NodeSpec, SimDisk } from './types.ts';

export interface Settings {
  joinDelayMs: number;
  etcdStartDelayMs: number;
  /** Talos's EtcdJoinTimeout (30 min), scaled: from Preparing without data to Failed. */
  joinTimeoutMs: number;
  /** How long (ms) an accepted Bootstrap call shows etcd Finished "Bootstrap requested" before it replaces etcd and returns. */
  bootstrapStopVisibleMs: number;
  /** Talos's BootTimeout (70 min), scaled; see SimulatorOptions.bootTimeoutMs. */
  bootTimeoutMs: number;
  timeSyncWaitMs: number;
  applyRebootMs: number;
}

/** What a node needs from the simulator that holds it. */
export interface World {
  readonly recorder: Recorder;
  readonly settings: Settings;
  random(): number;
  nodesOf(group: string): SimNode[];
  discoveryEnabled(group: string): boolean;
  etcdCluster(id: string): EtcdClusterRecord | undefined;
  /** An etcd cluster has a leader while a majority of its members run. */
  hasLeader(cluster: EtcdClusterRecord): boolean;
  /** Leader member id (decimal), "0" without a leader. */
  leaderId(cluster: EtcdClusterRecord): string;
  /** Bootstrap succeeded on `node`: a new one-member etcd cluster. */
  formCluster(node: SimNode): EtcdClusterRecord;
  /** ApplyConfiguration accepted on `node`. */
  configurationApplied(node: SimNode, mode: string, callerCn: string | undefined, data: Buffer): void;
  /** Node state changed: re-derive resources, schedule joins. */
  changed(): void;
}

export interface NodeEtcdState {
  /** The etcd cluster this node belongs to (or, after an accepted Bootstrap, will found). */
  clusterId: string | null;
  /** uint64 decimal. */
  memberId: string | null;
  /** etcd runs and is healthy. */
  running: boolean;
  /** /var/lib/etcd is not empty: written when the etcd process first starts (Bootstrap's only guard). */
  dataWritten: boolean;
  /** When a Bootstrap was accepted and etcd has not started since (machined's memory: a reboot loses it). */
  bootstrapAcceptedAt: number | null;
  /** When etcd entered Preparing without data (the join loop's start; Failed after joinTimeoutMs). */
  preparingSince: number | null;
}

export interface ServiceOverride {
  state: string;
  healthy?: boolean;
  unknown?: boolean;
  message?: string;
}

/** A QEMU virtio disk as `talosctl get disks` shows it on a small VM. */
export const DEFAULT_DISK: SimDisk = {
  id: 'sda',
  dev_path: '/dev/sda',
  size: 21474836480,
  pretty_size: '21 GB',
  io_size: 512,
  sector_size: 512,
  readonly: false,
  cdrom: false,
  model: 'QEMU HARDDISK',
  serial: 'QM00001',
  modalias: 'scsi:t-0x00',
  bus_path: '/pci0000:00/0000:00:05.0/virtio2/host0/target0:0:0/0:0:0:0',
  sub_system: '/sys/class/block',
  transport: 'virtio',
  rotational: true,
  symlinks: ['/dev/disk/by-path/pci-0000:00:05.0-scsi-0:0:0:0'],
};

/** A random Talos-style node identity (base62, 43 characters). */
function nodeIdentity(): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from(randomBytes(43), (b) => alphabet[b % 62]).join('');
}

export class SimNode {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
  readonly group: string;
  /** From the spec; replaced by the machine type of a config applied in maintenance mode. */
  type: MachineType;
  readonly talosVersion: string;
  readonly extensions: string[];
  readonly iface: string;
  readonly certSANs: string[];
  readonly disks: SimDisk[];
  readonly nodeId = nodeIdentity();
  readonly identity: ClusterIdentity;
  readonly faults = new FaultPlan();
  readonly resources = new ResourceStore();
  readonly etcd: NodeEtcdState = { clusterId: null, memberId: null, running: false, dataWritten: false, bootstrapAcceptedAt: null, preparingSince: null };
  /** Further addresses of this node (several NICs); only the listening ones accept connections on :port. */
  readonly extraAddresses: { ip: string; listening: boolean }[];
  /** NodeAddresses/default: the node's own default address. */
  readonly defaultAddress: string;
  readonly serviceOverrides = new Map<string, ServiceOverride>();
  /** Extension services as machined's runner runs them (exit codes, restart kinds). */
  readonly extensionServices: ExtensionServices = new ExtensionServices(this);
  readonly appliedConfigs: { at: Date; mode: string; callerCn: string | undefined; data: Buffer }[] = [];

  bootTime: number;
  /** The kernel's boot_id (/proc/sys/kernel/random/boot_id): a new random UUID on every boot. */
  bootId: string = randomUUID();
  latencyMs: number;
  criReady: boolean;
  timeSynced: boolean;
  etcdConfigured: boolean;
  pendingReboot: boolean;
  maintenance: boolean;
  legacyNonControlPlaneError: boolean;
  /** Set once etcd first runs after boot: the boot sequence is over and the stage is `running`. */
  bootCompleted = false;
  /**
   * Set when the node first runs with its machine config: from then on it is an affiliate in cluster
   * discovery (and so a Member on every node) until affiliates expire, which outlasts any test. A node that
   * never booted with its config is nobody's member.
   */
  registered = false;
  /** The machine config text (config.yaml); set by the simulator. */
  machineConfig = '';
  /** Set while the node runs (listens); down nodes refuse connections. */
  private server: TalosApiServer | null = null;
  private readonly sockets = new Map<TLSSocket, string | undefined>();
  private readonly partitioned = new Set<string>();
  /** Per-address partitions: connections to that address of the node from these CNs are dropped. */
  private readonly partitionedAt = new Map<string, Set<string>>();
  /** Overrides Settings.etcdStartDelayMs for this node (a slow image pull). */
  etcdStartDelayMs: number | undefined;
  private readonly logs = new Map<string, string[]>();
  private readonly logListeners = new Map<string, Set<(line: string) => void>>();
  apidCert: IssuedCertificate;
  /** Present in maintenance mode: the per-boot self-signed CA apid serves with. */
  maintenanceCaPem: string | undefined;

  constructor(
    spec: NodeSpec & { bootTime: number },
    identity: ClusterIdentity,
    readonly world: World,
  ) {
    this.name = spec.name;
    this.ip = spec.ip;
    this.port = spec.port ?? 50000;
    this.group = spec.cluster ?? 'default';
    this.type = spec.type;
    this.talosVersion = spec.talosVersion ?? 'v1.13.0';
    this.extensions = spec.extensions ?? ['autobootstrap'];
    this.iface = spec.interface ?? 'eth0';
    this.certSANs = spec.certSANs ?? [];
    this.extraAddresses = (spec.addresses ?? []).map((a) => ({ ip: a.ip, listening: a.listening ?? true }));
    this.defaultAddress = spec.defaultAddress ?? spec.ip;
    this.disks = spec.disks ?? [DEFAULT_DISK];
    this.identity = identity;
    this.bootTime = spec.bootTime;
    this.latencyMs = spec.latencyMs ?? 0;
    this.criReady = spec.criReady ?? true;
    this.timeSynced = spec.timeSynced ?? true;
    this.etcdConfigured = spec.type !== 'worker' && (spec.etcdConfigured ?? true);
    this.pendingReboot = spec.pendingReboot ?? false;
    this.maintenance = spec.maintenance ?? false;
    this.legacyNonControlPlaneError = spec.legacyNonControlPlaneError ?? false;
    this.apidCert = issueApidCertificate(identity.osCa, { hostname: this.name, ip: this.ip, certSANs: [...this.extraAddresses.map((a) => a.ip), ...this.certSANs] });
  }

  get endpoint(): string {
    return `${this.ip}:${this.port}`;
  }

  /** Every address of the node: its primary one first (Talos lists them all in apid's certificate). */
  get addresses(): string[] {
    return [this.ip, ...this.extraAddresses.map((a) => a.ip)];
  }

  get isUp(): boolean {
    return this.server !== null;
  }

  /** Control plane as machined sees it (MachineType resource); a node in maintenance has type unknown. */
  get isControlPlane(): boolean {
    return !this.maintenance && (this.type === 'controlplane' || this.type === 'init');
  }

  get machineTypeName(): string {
    return this.maintenance ? 'unknown' : this.type;
  }

  /** The machine could run etcd now (a join needs time sync and the etcd PKI from cluster.etcd.ca). */
  get canRunEtcd(): boolean {
    return this.isUp && this.isControlPlane && this.etcdConfigured && this.timeSynced;
  }

  // ---- lifecycle -------------------------------------------------------------------------------

  async listen(): Promise<void> {
    if (this.server) return;
    const server = new TalosApiServer({
      onHandshake: (sock) => this.admitConnection(sock),
      onTlsError: (error) => this.refuse(error.message, undefined, undefined),
    });
    server.addService(machineServiceClient().service, machineHandlers(this));
    server.addService(cosiStateClient().service, cosiHandlers(this));
    let credentials;
    if (this.maintenance) {
      // A per-boot self-signed CA: clients cannot verify it and must connect insecurely.
      const ca = createCa({ organization: 'talos', kind: 'ed25519', years: 1 });
      this.maintenanceCaPem = ca.certPem;
      const cert = issueApidCertificate(ca, { hostname: this.name, ip: this.ip, certSANs: this.extraAddresses.map((a) => a.ip) });
      credentials = apidCredentials({ caPem: null, keyPem: cert.keyPem, certPem: cert.certPem });
    } else {
      this.maintenanceCaPem = undefined;
      credentials = apidCredentials({ caPem: this.identity.osCa.certPem, keyPem: this.apidCert.keyPem, certPem: this.apidCert.certPem });
    }
    // One apid, one certificate (in maintenance mode the per-boot one), on every listening address of the machine.
    const endpoints = [this.endpoint, ...this.extraAddresses.filter((a) => a.listening).map((a) => `${a.ip}:${this.port}`)];
    for (const endpoint of endpoints) {
      await new Promise<void>((resolve, reject) => {
        server.bindAsync(endpoint, credentials, (err) => (err ? reject(err) : resolve()));
      });
    }
    this.server = server;
  }

  /** Stops listening at once; open connections drop and in-flight calls fail UNAVAILABLE (or CANCELLED). */
  shutdown(): void {
    const server = this.server;
    this.server = null;
    if (!server) return;
    for (const sock of this.sockets.keys()) sock.destroy();
    this.sockets.clear();
    server.forceShutdown();
  }

  /**
   * apid's certificate provider issues a new certificate (new key and serial, same names): new handshakes
   * get it, open connections keep theirs.
   */
  async regenerateApidCertificate(): Promise<void> {
    this.apidCert = issueApidCertificate(this.identity.osCa, { hostname: this.name, ip: this.ip, certSANs: [...this.extraAddresses.map((a) => a.ip), ...this.certSANs] });
    if (!this.server || this.maintenance) return;
    this.server.replaceCertificate({ keyPem: this.apidCert.keyPem, certPem: this.apidCert.certPem, caPem: this.identity.osCa.certPem });
  }

  // ---- connections -----------------------------------------------------------------------------

  private admitConnection(sock: TLSSocket): boolean {
    if (this.maintenance) {
      this.track(sock, undefined);
      return true;
    }
    const verdict = verifyClientCertificate(sock);
    const local = sock.localAddress?.replace(/^::ffff:/, '');
    if (verdict.cn !== undefined && local !== undefined && this.partitionedAt.get(local)?.has(verdict.cn)) {
      this.refuse(`partitioned: connections from CN=${verdict.cn} to ${local} are dropped`, verdict.subject, verdict.cn);
      return false;
    }
    if (verdict.cn !== undefined && this.partitioned.has(verdict.cn)) {
      this.refuse(`partitioned: connections from CN=${verdict.cn} are dropped`, verdict.subject, verdict.cn);
      return false;
    }
    if (!verdict.ok) {
      this.refuse(verdict.reason, verdict.subject, verdict.cn);
      return false;
    }
    this.track(sock, verdict.cn);
    return true;
  }

  private track(sock: TLSSocket, cn: string | undefined): void {
    this.sockets.set(sock, cn);
    sock.once('close', () => this.sockets.delete(sock));
  }

  private refuse(reason: string, subject: string | undefined, cn: string | undefined): void {
    this.world.recorder.emitEvent({ kind: 'tls-refused', record: { at: new Date(), node: this.name, reason, subject, cn } });
  }

  /** Calls from client certificates with these CNs are refused from now on; their open connections drop. */
  partition(cns: Iterable<string>): void {
    for (const cn of cns) this.partitioned.add(cn);
    for (const [sock, cn] of this.sockets) {
      if (cn !== undefined && this.partitioned.has(cn)) sock.destroy();
    }
  }

  /** Calls from these CNs to one of this node's addresses are refused (asymmetric, per address). */
  partitionAddress(address: string, cns: Iterable<string>): void {
    const set = this.partitionedAt.get(address) ?? new Set<string>();
    for (const cn of cns) set.add(cn);
    this.partitionedAt.set(address, set);
    for (const [sock, cn] of this.sockets) {
      if (cn !== undefined && set.has(cn) && sock.localAddress?.replace(/^::ffff:/, '') === address) sock.destroy();
    }
  }

  /** Ends partitions for these CNs, or all of them (per-address ones included). */
  heal(cns?: Iterable<string>): void {
    if (!cns) {
      this.partitioned.clear();
      this.partitionedAt.clear();
    } else {
      for (const cn of cns) {
        this.partitioned.delete(cn);
        for (const set of this.partitionedAt.values()) set.delete(cn);
      }
    }
  }

  isPartitioned(cn: string): boolean {
    return this.partitioned.has(cn);
  }

  // ---- records, resources, logs -----------------------------------------------------------------

  recordCall(ctx: CallContext, code: status, message: string): void {
    const at = new Date();
    const codeName = status[code] ?? String(code);
    const { recorder } = this.world;
    recorder.emitEvent({ kind: 'call', record: { at, node: this.name, method: ctx.method, callerCn: ctx.cn, roles: ctx.roles, code, codeName, message } });
    if (ctx.method === '/machine.MachineService/Bootstrap') {
      recorder.emitEvent({ kind: 'bootstrap', record: { at, node: this.name, callerCn: ctx.cn, code, codeName, message } });
    }
  }

  private refreshedAt = Number.NEGATIVE_INFINITY;

  /** Re-derives the COSI resources from the current state (emits Watch events for differences). */
  refreshResources(): void {
    this.resources.sync(nodeResources(this));
    this.refreshedAt = performance.now();
  }

  /**
   * For reads: every state change already refreshes (World.changed); this catches state set directly by a
   * test, at most `maxAgeMs` late, without re-deriving every resource on every Get (which made each read
   * cost milliseconds of CPU and a discovery round's nine reads per node slow under load).
   */
  refreshResourcesIfStale(maxAgeMs = 20): void {
    if (performance.now() - this.refreshedAt >= maxAgeMs) this.refreshResources();
  }

  appendLog(service: string, line: string): void {
    const lines = this.logs.get(service) ?? [];
    lines.push(line);
    // machined keeps a bounded in-memory buffer per service.
    if (lines.length > 5000) lines.splice(0, lines.length - 5000);
    this.logs.set(service, lines);
    for (const l of this.logListeners.get(service) ?? []) l(line);
  }

  logLines(service: string): string[] {
    return [...(this.logs.get(service) ?? [])];
  }

  onLog(service: string, listener: (line: string) => void): () => void {
    const set = this.logListeners.get(service) ?? new Set();
    set.add(listener);
    this.logListeners.set(service, set);
    return () => set.delete(listener);
  }
}
