// The simulated Talos cluster(s): nodes, their shared identities, and the etcd world that Bootstrap
// creates. Etcd behaves as Talos lets it: Bootstrap on any control plane with an empty data directory
// forms a NEW one-member cluster (split brain included); control planes without etcd data join a
// reachable cluster of their own cluster group after joinDelayMs.
import { randomUUID } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { join } from 'node:path';
import { createClusterIdentity, type ClusterIdentity } from './cluster-identity.ts';
import { writeHostRoot } from './host-root.ts';
import { renderMachineConfig } from './machine-config.ts';
import { generatedCluster } from './generated-clusters.ts';
import { identityFromTalosConfigs, talosConfigFor, type TalosGeneratedConfigs } from './talos-configs.ts';
import { SimNode, type Settings, type World } from './node.ts';
import { MachinedSocketServer } from './machined-socket.ts';
import { etcdSecretsFor, issueClientCertificate, type ClientCertificateOptions, type EtcdSecretsFiles, type IssuedCertificate } from './pki.ts';
import { formatEvent, Recorder } from './records.ts';
import type { status } from '@grpc/grpc-js';
import type {
  BootstrapRecord,
  CallRecord,
  EtcdClusterRecord,
  EtcdMemberInfo,
  MachineType,
  NodeSpec,
  SimEvent,
  SimulatorOptions,
  TlsRefusalRecord,
} from './types.ts';

type Timer = ReturnType<typeof setTimeout>;

export interface NodeFlags {
  criReady?: boolean;
  timeSynced?: boolean;
  etcdConfigured?: boolean;
  pendingReboot?: boolean;
  latencyMs?: number;
  bootTime?: number;
  /** This node's etcd takes this long to start (its image pull), instead of etcdStartDelayMs. */
  etcdStartDelayMs?: number;
}

/** A random non-zero uint64 as a decimal string (etcd member and cluster ids). */
function randomU64(): string {
  let v = 0n;
  while (v === 0n) v = randomBytes(8).readBigUInt64BE();
  return v.toString();
}

/** machine.type and whether cluster.etcd.ca is set, from an applied config's v1alpha1 document. */
function appliedFacts(data: Buffer): { type: MachineType; etcdConfigured: boolean } | undefined {
  const docs = parseAllDocuments(data.toString('utf8'));
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const js = doc.toJS() as { version?: unknown; kind?: unknown; machine?: { type?: unknown }; cluster?: { etcd?: { ca?: { crt?: unknown } } } } | null;
    if (!js || js.version !== 'v1alpha1' || js.kind !== undefined) continue;
    const t = js.machine?.type;
    const type: MachineType = t === 'controlplane' || t === 'init' ? t : 'worker';
    const crt = js.cluster?.etcd?.ca?.crt;
    return { type, etcdConfigured: typeof crt === 'string' && crt !== '' };
  }
  return undefined;
}

function subnetOf(ip: string): string {
  return ip.split('.').slice(0, 3).join('.');
}

export class TalosSimulator implements World {
  readonly recorder = new Recorder();
  readonly settings: Settings;
  private readonly options: SimulatorOptions;
  private readonly byName = new Map<string, SimNode>();
  private readonly identities = new Map<string, ClusterIdentity>();
  /** Each cluster group's Talos-generated configs; none when the simulator renders its own (renderedConfigs). */
  private readonly generated = new Map<string, TalosGeneratedConfigs>();
  private readonly joinTimers = new Map<SimNode, Timer>();
  private readonly startTimers = new Map<SimNode, Timer>();
  private readonly bootTimers = new Map<SimNode, Timer>();
  private readonly otherTimers = new Set<Timer>();
  private readonly etcdSecrets = new Map<SimNode, EtcdSecretsFiles>();
  private readonly sockets = new Map<string, MachinedSocketServer>();
  private readonly randomFn: () => number;
  private stopped = false;
  private heldReboots: (() => void)[] | undefined;

  constructor(options: SimulatorOptions) {
    this.options = options;
    this.settings = {
      joinDelayMs: options.joinDelayMs ?? 500,
      etcdStartDelayMs: options.etcdStartDelayMs ?? 200,
      joinTimeoutMs: options.joinTimeoutMs ?? Number.POSITIVE_INFINITY,
      bootstrapStopVisibleMs: options.bootstrapStopVisibleMs ?? 0,
      bootTimeoutMs: options.bootTimeoutMs ?? Number.POSITIVE_INFINITY,
      timeSyncWaitMs: options.timeSyncWaitMs ?? 5000,
      applyRebootMs: options.applyRebootMs ?? 300,
    };
    this.randomFn = options.random ?? Math.random;
    const now = Math.floor(Date.now() / 1000);
    options.nodes.forEach((spec, index) => {
      if (this.byName.has(spec.name)) throw new Error(`duplicate node name ${spec.name}`);
      const group = spec.cluster ?? 'default';
      let identity = this.identities.get(group);
      if (!identity) {
        identity = createClusterIdentity(group, options.clusters?.[group] ?? {});
        // Talos's generator's configs unless told otherwise: the n-th group gets the n-th generated cluster.
        const generated = options.clusters?.[group]?.talosConfigs ?? (options.renderedConfigs ? undefined : generatedCluster(this.identities.size));
        if (generated) {
          // A name or endpoint the test chose stands for `talosctl gen config NAME ENDPOINT` with them.
          const chosen = options.clusters?.[group] ?? {};
          identity = { ...identityFromTalosConfigs(generated, identity), ...(chosen.clusterName ? { clusterName: chosen.clusterName } : {}), ...(chosen.controlPlaneEndpoint ? { controlPlaneEndpoint: chosen.controlPlaneEndpoint } : {}) };
          this.generated.set(group, generated);
        }
        this.identities.set(group, identity);
      }
      // Earlier nodes booted earlier, a few seconds apart, unless told otherwise.
      const bootTime = spec.bootTime ?? now - 300 + index * 5;
      this.byName.set(spec.name, new SimNode({ ...spec, bootTime }, identity, this));
    });
    for (const node of this.byName.values()) node.machineConfig = this.renderConfig(node);
  }

  /** Builds the nodes, writes their host roots and brings up every node not created down. */
  static async start(options: SimulatorOptions): Promise<TalosSimulator> {
    const sim = new TalosSimulator(options);
    await sim.start();
    return sim;
  }

  async start(): Promise<void> {
    const specs = new Map(this.options.nodes.map((s) => [s.name, s] as const));
    for (const spec of this.options.nodes) {
      const timeout = spec.timeBootTimeoutMs;
      if (timeout === undefined || spec.timeSynced !== false) continue;
      // Talos marks time synced when bootTimeout passes without a sync (time.SyncController).
      const t = setTimeout(() => this.setFlags(spec.name, { timeSynced: true }), timeout);
      this.otherTimers.add(t);
    }
    if (this.options.apidCertRotationMs !== undefined) {
      const every = this.options.apidCertRotationMs;
      const t = setInterval(() => {
        for (const n of this.byName.values()) if (n.isUp && !n.maintenance) void this.regenerateApidCertificate(n.name, 'periodic');
      }, every);
      this.otherTimers.add(t as unknown as Timer);
    }
    const presets = this.options.bootstrapped === undefined ? [] : [this.options.bootstrapped].flat();
    for (const name of presets) this.presetCluster(this.node(name), (n) => specs.get(n.name)?.up !== false);
    for (const node of this.byName.values()) this.writeHostRoot(node);
    try {
      await Promise.all([...this.byName.values()].filter((n) => specs.get(n.name)?.up !== false).map((n) => this.bringUp(n)));
    } catch (err) {
      await this.stop();
      throw err;
    }
    if (this.options.machinedSockets && this.options.hostRootDir) {
      for (const node of this.byName.values()) {
        const path = join(this.options.hostRootDir, node.name, 'system/run/machined/machine.sock');
        this.sockets.set(node.name, await MachinedSocketServer.start(path, node));
      }
    }
    this.changed();
  }

  /** The node's simulated machined socket (with its call records), when machinedSockets is on. */
  machinedSocket(name: string): MachinedSocketServer {
    const s = this.sockets.get(name);
    if (!s) throw new Error(`no machined socket for ${name} (start the simulator with machinedSockets and hostRootDir)`);
    return s;
  }

  /** Stops every node and timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sockets.values()) await s.stop();
    this.sockets.clear();
    for (const t of [...this.joinTimers.values(), ...this.startTimers.values(), ...this.bootTimers.values(), ...this.otherTimers]) {
      clearTimeout(t);
      clearInterval(t);
    }
    this.joinTimers.clear();
    this.startTimers.clear();
    this.otherTimers.clear();
    for (const node of this.byName.values()) {
      node.shutdown();
      node.extensionServices.reset();
    }
    this.recorder.removeAllListeners();
  }

  // ---- nodes ------------------------------------------------------------------------------------

  node(name: string): SimNode {
    const node = this.byName.get(name);
    if (!node) throw new Error(`no simulated node named ${name}`);
    return node;
  }

  nodes(): SimNode[] {
    return [...this.byName.values()];
  }

  identity(group = 'default'): ClusterIdentity {
    const id = this.identities.get(group);
    if (!id) throw new Error(`no cluster group ${group}`);
    return id;
  }

  /** The OS CA certificate (PEM) clients of this group verify apid against. */
  osCaPem(group = 'default'): string {
    return this.identity(group).osCa.certPem;
  }

  /** A client certificate signed by the group's OS CA (default: EKU exactly clientAuth). */
  clientCertificate(options: ClientCertificateOptions & { group?: string }): IssuedCertificate {
    return issueClientCertificate(this.identity(options.group).osCa, options);
  }

  hostRoot(name: string): string | undefined {
    return this.options.hostRootDir ? join(this.options.hostRootDir, name) : undefined;
  }

  async up(name: string): Promise<void> {
    const node = this.node(name);
    if (node.isUp) return;
    await this.bringUp(node);
    this.changed();
  }

  /** Stops the node's apid (connection refused from now on) and its etcd; etcd data stays. */
  down(name: string): void {
    const node = this.node(name);
    if (!node.isUp) return;
    node.shutdown();
    this.cancelTimers(node);
    node.etcd.running = false;
    node.bootCompleted = false;
    this.recorder.emitEvent({ kind: 'node-down', at: new Date(), node: node.name });
    this.changed();
  }

  setFlags(name: string, flags: NodeFlags): void {
    const node = this.node(name);
    if (flags.criReady !== undefined) node.criReady = flags.criReady;
    if (flags.timeSynced !== undefined && flags.timeSynced !== node.timeSynced) {
      node.timeSynced = flags.timeSynced;
      // A time-sync change makes apid regenerate its certificate (its validity window moves).
      void this.regenerateApidCertificate(name, 'time sync changed');
    }
    if (flags.pendingReboot !== undefined) node.pendingReboot = flags.pendingReboot;
    if (flags.latencyMs !== undefined) node.latencyMs = flags.latencyMs;
    if (flags.bootTime !== undefined) node.bootTime = flags.bootTime;
    if (flags.etcdStartDelayMs !== undefined) node.etcdStartDelayMs = flags.etcdStartDelayMs;
    if (flags.etcdConfigured !== undefined) {
      node.etcdConfigured = node.type !== 'worker' && flags.etcdConfigured;
      node.machineConfig = this.renderConfig(node);
    }
    this.writeHostRoot(node);
    this.changed();
  }

  /** The next `times` calls of `method` on the node fail with `code`, then it behaves normally. */
  failMethod(name: string, method: string, code: status, times = 1, message?: string): void {
    this.node(name).faults.failMethod(method, code, times, message);
  }

  /** The next `times` calls of `method` on the node do their work, then the client gets `code` instead of the reply. */
  loseReply(name: string, method: string, code: status, times = 1, message?: string): void {
    this.node(name).faults.loseReply(method, code, times, message);
  }

  /** Calls from client certificates with these CNs to the named nodes (default: all) are refused. */
  partition(callerCns: string[], nodeNames?: string[]): void {
    for (const node of nodeNames ? nodeNames.map((n) => this.node(n)) : this.nodes()) node.partition(callerCns);
  }

  /**
   * The process of extension service `ext-<ext>` on the node exited with `code`: Finished on 0, else per
   * its restart kind (untilSuccess: Waiting, restarted after `restartIntervalMs`; Talos waits 5 s).
   */
  extensionExited(name: string, ext: string, code: number, options: { restart?: 'always' | 'never' | 'untilSuccess'; restartIntervalMs?: number; lastLog?: string } = {}): void {
    this.node(name).extensionServices.exited(`ext-${ext}`, code, options.restartIntervalMs ?? 5_000, options.restart ?? 'untilSuccess', options.lastLog ?? '');
  }

  /**
   * apid regenerates its certificate (Talos: when the node's addresses or time sync change, and every
   * 12 hours; internal/app/machined/pkg/controllers/secrets/api_cert_sans.go and api.go).
   */
  async regenerateApidCertificate(name: string, reason = 'requested'): Promise<void> {
    const node = this.node(name);
    await node.regenerateApidCertificate();
    this.recorder.emitEvent({ kind: 'apid-cert-regenerated', at: new Date(), node: node.name, reason });
  }

  /**
   * Steps the node's clock by deltaMs (NTP applies offsets over 400 ms as a jump, also after "synced"):
   * /proc/stat's btime, which is now minus uptime, moves by the same amount, and so does SystemStat.
   */
  stepClock(name: string, deltaMs: number): void {
    const node = this.node(name);
    node.bootTime += Math.round(deltaMs / 1000);
    this.writeHostRoot(node);
    this.recorder.emitEvent({ kind: 'clock-stepped', at: new Date(), node: node.name, deltaMs, bootTime: node.bootTime });
    this.changed();
  }

  /** Calls from client certificates with these CNs to one address of the named node are refused. */
  partitionAddress(name: string, address: string, callerCns: string[]): void {
    this.node(name).partitionAddress(address, callerCns);
  }

  heal(callerCns?: string[], nodeNames?: string[]): void {
    for (const node of nodeNames ? nodeNames.map((n) => this.node(n)) : this.nodes()) node.heal(callerCns);
  }

  // ---- records ----------------------------------------------------------------------------------

  onEvent(listener: (event: SimEvent) => void): () => void {
    this.recorder.on('event', listener);
    return () => this.recorder.off('event', listener);
  }

  /** Like onEvent, with each event already formatted as one readable line. */
  onLog(listener: (line: string) => void): () => void {
    return this.onEvent((e) => listener(formatEvent(e)));
  }

  calls(): CallRecord[] {
    return [...this.recorder.calls];
  }

  callsFrom(cn: string): CallRecord[] {
    return this.recorder.calls.filter((c) => c.callerCn === cn);
  }

  bootstrapCalls(): BootstrapRecord[] {
    return [...this.recorder.bootstraps];
  }

  successfulBootstraps(): BootstrapRecord[] {
    return this.recorder.bootstraps.filter((b) => b.code === 0);
  }

  /** Every etcd cluster that ever formed (snapshots; members as of now). */
  etcdClusters(group?: string): EtcdClusterRecord[] {
    return this.recorder.clusters
      .filter((c) => group === undefined || c.group === group)
      .map((c) => ({ ...c, members: c.members.map((m) => ({ ...m })) }));
  }

  tlsRefusals(): TlsRefusalRecord[] {
    return [...this.recorder.tlsRefusals];
  }

  timeline(): SimEvent[] {
    return [...this.recorder.timeline];
  }

  /** Resolves once `predicate` holds (checked on every event and every 20 ms); rejects after timeoutMs. */
  waitUntil(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    return new Promise((resolve, reject) => {
      if (predicate()) return resolve();
      const check = () => {
        if (!predicate()) return;
        cleanup();
        resolve();
      };
      const interval = setInterval(check, 20);
      const off = this.onEvent(check);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        clearInterval(interval);
        clearTimeout(timer);
        off();
      };
    });
  }

  // ---- World ------------------------------------------------------------------------------------

  random(): number {
    return this.randomFn();
  }

  nodesOf(group: string): SimNode[] {
    return this.nodes().filter((n) => n.group === group);
  }

  discoveryEnabled(group: string): boolean {
    return this.options.clusters?.[group]?.discovery ?? true;
  }

  etcdCluster(id: string): EtcdClusterRecord | undefined {
    return this.recorder.clusters.find((c) => c.id === id);
  }

  private runningMembers(cluster: EtcdClusterRecord): EtcdMemberInfo[] {
    return cluster.members.filter((m) => {
      const n = this.byName.get(m.node);
      return n !== undefined && n.isUp && n.etcd.running && n.etcd.clusterId === cluster.id;
    });
  }

  hasLeader(cluster: EtcdClusterRecord): boolean {
    return this.runningMembers(cluster).length * 2 > cluster.members.length;
  }

  leaderId(cluster: EtcdClusterRecord): string {
    if (!this.hasLeader(cluster)) return '0';
    const running = this.runningMembers(cluster);
    const founder = running.find((m) => m.node === cluster.founder);
    return (founder ?? running[0])?.id ?? '0';
  }

  formCluster(node: SimNode): EtcdClusterRecord {
    // A second Bootstrap before etcd started: Talos stops the bootstrap-mode etcd and starts it again; it
    // is still this node's one cluster-to-be.
    const pending = node.etcd.bootstrapAcceptedAt !== null && node.etcd.clusterId ? this.etcdCluster(node.etcd.clusterId) : undefined;
    if (pending) {
      node.etcd.bootstrapAcceptedAt = Date.now();
      this.scheduleEtcdStart(node, this.settings.bootstrapStopVisibleMs);
      this.changed();
      return pending;
    }
    const cluster: EtcdClusterRecord = {
      id: randomU64(),
      group: node.group,
      founder: node.name,
      formedAt: new Date(),
      origin: 'bootstrap',
      members: [],
    };
    this.recorder.addCluster(cluster);
    this.cancelJoin(node);
    this.addMember(cluster, node, false);
    // Held in machined's memory until the etcd process starts and writes the data directory.
    node.etcd.dataWritten = false;
    node.etcd.bootstrapAcceptedAt = Date.now();
    node.appendLog('etcd', `bootstrapping new etcd cluster ${cluster.id} with this node as its only member`);
    this.recorder.emitEvent({ kind: 'etcd-formed', at: cluster.formedAt, node: node.name, clusterId: cluster.id, group: cluster.group });
    // The bootstrap-mode etcd starts once Bootstrap has replaced the stopped one (machine-service.ts).
    this.scheduleEtcdStart(node, this.settings.bootstrapStopVisibleMs);
    this.changed();
    return cluster;
  }

  configurationApplied(node: SimNode, mode: string, callerCn: string | undefined, data: Buffer): void {
    node.appliedConfigs.push({ at: new Date(), mode, callerCn, data });
    this.recorder.emitEvent({ kind: 'config-applied', at: new Date(), node: node.name, mode, callerCn });
    if (!node.maintenance || mode === 'STAGED') return;
    // Leaving maintenance: the node installs, reboots and comes back with its configuration.
    if (this.heldReboots) this.heldReboots.push(() => this.rebootIntoConfig(node, data));
    else this.rebootIntoConfig(node, data);
  }

  /**
   * Nodes that accept a config in maintenance mode stay there (as if installing slowly) until
   * releaseReboots(): tests can then order events by construction instead of by timing.
   */
  holdReboots(): void {
    this.heldReboots ??= [];
  }

  releaseReboots(): void {
    const held = this.heldReboots ?? [];
    this.heldReboots = undefined;
    for (const reboot of held) reboot();
  }

  private rebootIntoConfig(node: SimNode, data: Buffer): void {
    const timer = setTimeout(() => {
      this.otherTimers.delete(timer);
      if (this.stopped) return;
      node.shutdown();
      this.cancelTimers(node);
      node.maintenance = false;
      // The node boots with the config it was given: its machine type and etcd settings come from it, and
      // it is what the node's STATE holds. (Its OS CA is the group's: apply configs rendered for the group.)
      const applied = appliedFacts(data);
      if (applied) {
        node.type = applied.type;
        node.etcdConfigured = applied.type !== 'worker' && applied.etcdConfigured;
        node.machineConfig = data.toString('utf8');
      } else {
        node.machineConfig = this.renderConfig(node);
      }
      this.writeHostRoot(node);
      this.recorder.emitEvent({ kind: 'node-down', at: new Date(), node: node.name });
      void this.bringUp(node).then(() => this.changed());
    }, this.settings.applyRebootMs);
    this.otherTimers.add(timer);
  }

  changed(): void {
    if (this.stopped) return;
    for (const node of this.byName.values()) node.refreshResources();
    this.scheduleJoins();
  }

  // ---- etcd -------------------------------------------------------------------------------------

  private addMember(cluster: EtcdClusterRecord, node: SimNode, running: boolean): EtcdMemberInfo {
    const member: EtcdMemberInfo = {
      id: randomU64(),
      node: node.name,
      hostname: node.name,
      peerUrls: [`https://${node.ip}:2380`],
      clientUrls: [`https://${node.ip}:2379`],
      isLearner: false,
      joinedAt: new Date(),
    };
    cluster.members.push(member);
    node.etcd.clusterId = cluster.id;
    node.etcd.memberId = member.id;
    node.etcd.running = running;
    node.etcd.dataWritten = true;
    node.etcd.preparingSince = null;
    return member;
  }

  /** The `bootstrapped` start option: a cluster that formed before the simulation, every control plane joined. */
  private presetCluster(founder: SimNode, willBeUp: (n: SimNode) => boolean): void {
    if (!founder.isControlPlane) throw new Error(`bootstrapped node ${founder.name} is not a control plane`);
    const cluster: EtcdClusterRecord = {
      id: randomU64(),
      group: founder.group,
      founder: founder.name,
      formedAt: new Date(),
      origin: 'preset',
      members: [],
    };
    this.recorder.addCluster(cluster);
    const cps = this.nodesOf(founder.group).filter((n) => n.isControlPlane && n.etcdConfigured && n.etcd.clusterId === null);
    for (const n of [founder, ...cps.filter((c) => c !== founder)]) {
      const up = willBeUp(n);
      this.addMember(cluster, n, up);
      n.bootCompleted = up;
    }
    this.recorder.emitEvent({ kind: 'etcd-formed', at: cluster.formedAt, node: founder.name, clusterId: cluster.id, group: cluster.group });
  }

  /** `afterMs`: extra delay before etcdStartDelayMs begins (ms). */
  private scheduleEtcdStart(node: SimNode, afterMs = 0): void {
    const existing = this.startTimers.get(node);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.startTimers.delete(node);
      if (this.stopped || !node.isUp || node.etcd.running || !node.etcd.clusterId || !node.etcd.memberId) return;
      node.etcd.running = true;
      node.etcd.dataWritten = true;
      node.etcd.bootstrapAcceptedAt = null;
      node.bootCompleted = true;
      node.appendLog('etcd', `etcd is running as member ${node.etcd.memberId} of cluster ${node.etcd.clusterId}`);
      this.recorder.emitEvent({ kind: 'etcd-running', at: new Date(), node: node.name, clusterId: node.etcd.clusterId, memberId: node.etcd.memberId });
      this.changed();
    }, afterMs + (node.etcdStartDelayMs ?? this.settings.etcdStartDelayMs));
    this.startTimers.set(node, timer);
  }

  private joinableClusters(group: string): EtcdClusterRecord[] {
    return this.recorder.clusters.filter((c) => c.group === group && this.hasLeader(c));
  }

  /** Every control plane that could run etcd but has no data waits joinDelayMs, then joins a reachable cluster. */
  private scheduleJoins(): void {
    for (const node of this.byName.values()) {
      if (!node.canRunEtcd || node.etcd.clusterId !== null || this.joinTimers.has(node) || this.joinGaveUp(node)) continue;
      if (this.joinableClusters(node.group).length === 0) continue;
      const timer = setTimeout(() => {
        this.joinTimers.delete(node);
        if (this.stopped || !node.canRunEtcd || node.etcd.clusterId !== null || this.joinGaveUp(node)) return;
        const candidates = this.joinableClusters(node.group);
        const cluster = candidates[Math.floor(this.randomFn() * candidates.length)];
        if (!cluster) return;
        const member = this.addMember(cluster, node, true);
        node.bootCompleted = true;
        node.appendLog('etcd', `joined etcd cluster ${cluster.id} as member ${member.id}`);
        const at = new Date();
        this.recorder.emitEvent({ kind: 'etcd-joined', at, node: node.name, clusterId: cluster.id, memberId: member.id });
        this.recorder.emitEvent({ kind: 'etcd-running', at, node: node.name, clusterId: cluster.id, memberId: member.id });
        this.changed();
      }, this.settings.joinDelayMs);
      this.joinTimers.set(node, timer);
    }
  }

  /** The join loop gave up (EtcdJoinTimeout): etcd is Failed until the node reboots. */
  private joinGaveUp(node: SimNode): boolean {
    return node.etcd.preparingSince !== null && Date.now() - node.etcd.preparingSince >= this.settings.joinTimeoutMs;
  }

  /**
   * Reboots the node: apid goes away for `downMs`, the boot time becomes now (seconds), every service starts
   * over, and an accepted Bootstrap whose etcd had not started is lost (it lived in machined's memory).
   * etcd data on disk stays. The daemon is the caller's to restart (it runs as a process of its own).
   */
  async reboot(name: string, downMs = 100, bootTime?: number): Promise<void> {
    const node = this.node(name);
    node.shutdown();
    this.cancelTimers(node);
    const lost = node.etcd.bootstrapAcceptedAt !== null && !node.etcd.dataWritten;
    if (lost && node.etcd.clusterId) {
      const i = this.recorder.clusters.findIndex((c) => c.id === node.etcd.clusterId);
      if (i >= 0) this.recorder.clusters.splice(i, 1);
      node.etcd.clusterId = null;
      node.etcd.memberId = null;
    }
    node.etcd.running = false;
    node.etcd.bootstrapAcceptedAt = null;
    node.etcd.preparingSince = null;
    node.extensionServices.reset();
    node.bootCompleted = false;
    node.bootTime = bootTime ?? Math.max(node.bootTime + 1, Math.floor(Date.now() / 1000));
    node.bootId = randomUUID();
    this.writeHostRoot(node);
    this.recorder.emitEvent({ kind: 'node-rebooted', at: new Date(), node: node.name, bootTime: node.bootTime, lostBootstrap: lost });
    this.changed();
    await new Promise((r) => setTimeout(r, downMs));
    if (this.stopped) return;
    await this.bringUp(node);
    this.changed();
  }

  private cancelJoin(node: SimNode): void {
    const t = this.joinTimers.get(node);
    if (t) clearTimeout(t);
    this.joinTimers.delete(node);
  }

  private cancelTimers(node: SimNode): void {
    this.cancelJoin(node);
    const b = this.bootTimers.get(node);
    if (b) clearTimeout(b);
    this.bootTimers.delete(node);
    const t = this.startTimers.get(node);
    if (t) clearTimeout(t);
    this.startTimers.delete(node);
  }

  private async bringUp(node: SimNode): Promise<void> {
    await node.listen();
    if (!node.maintenance) node.registered = true;
    if (node.isControlPlane && !node.etcd.dataWritten && node.etcd.bootstrapAcceptedAt === null) node.etcd.preparingSince ??= Date.now();
    node.appendLog('machined', node.isControlPlane && !node.etcd.clusterId ? 'etcd is waiting to join the cluster' : 'boot sequence started');
    this.recorder.emitEvent({ kind: 'node-up', at: new Date(), node: node.name });
    // The boot sequence waits for etcd; at BootTimeout (constants.go:1021) the boot fails and the node reboots.
    if (node.isControlPlane && Number.isFinite(this.settings.bootTimeoutMs)) {
      const t = setTimeout(() => {
        this.bootTimers.delete(node);
        if (this.stopped || !node.isUp || node.etcd.running || node.etcd.bootstrapAcceptedAt !== null) return;
        void this.reboot(node.name);
      }, this.settings.bootTimeoutMs);
      this.bootTimers.set(node, t);
    }
    // A node with etcd data restarts its etcd member; without data it waits to join (scheduleJoins).
    if (node.etcd.clusterId && !node.etcd.running && node.isControlPlane) this.scheduleEtcdStart(node);
  }

  // ---- fixtures ---------------------------------------------------------------------------------

  private renderConfig(node: SimNode): string {
    const cpCount = this.nodesOf(node.group).filter((n) => n.type !== 'worker').length;
    const extensions: Record<string, string[]> = {};
    if (node.extensions.includes('autobootstrap')) {
      extensions.autobootstrap = [`TALOS_AUTO_BOOTSTRAP_QUORUM_NODES=${cpCount}`, 'LOG_LEVEL=info'];
    }
    const generated = this.generated.get(node.group);
    // Talos never generates a control plane without cluster.etcd.ca: such a node keeps the rendered config.
    // An init node (deprecated; talosctl gen config writes controlplane.yaml) keeps it too.
    if (generated && (node.type === 'worker' || (node.type === 'controlplane' && node.etcdConfigured))) {
      return talosConfigFor(generated, node.type, extensions, {
        v1alpha1Last: this.options.v1alpha1Last ?? false,
        discovery: this.discoveryEnabled(node.group),
        clusterName: node.identity.clusterName,
        controlPlaneEndpoint: node.identity.controlPlaneEndpoint,
      });
    }
    return renderMachineConfig({
      identity: node.identity,
      type: node.type,
      hostname: node.name,
      ip: node.ip,
      prefixLength: 24,
      gateway: `${subnetOf(node.ip)}.254`,
      iface: node.iface,
      certSANs: [node.ip, ...node.certSANs],
      talosVersion: node.talosVersion,
      etcdConfigured: node.etcdConfigured,
      extensions,
      v1alpha1Last: this.options.v1alpha1Last ?? false,
    });
  }

  private writeHostRoot(node: SimNode): void {
    const root = this.hostRoot(node.name);
    if (!root) return;
    // /system/secrets/etcd appears on control planes once time is synced and the etcd PKI is rendered.
    let secrets: EtcdSecretsFiles | undefined;
    if (node.isControlPlane && node.etcdConfigured && node.timeSynced) {
      secrets = this.etcdSecrets.get(node) ?? etcdSecretsFor(node.identity.etcdCa, { hostname: node.name, ip: node.ip });
      this.etcdSecrets.set(node, secrets);
    }
    writeHostRoot(root, {
      bootTime: node.bootTime,
      bootId: node.bootId,
      localAddresses: node.addresses,
      route: { iface: node.iface, ip: node.ip, prefixLength: 24, gateway: `${subnetOf(node.ip)}.254` },
      ...(node.maintenance ? {} : { machineConfig: node.machineConfig }),
      ...(secrets ? { etcdSecrets: secrets } : {}),
    });
  }
}

export type { NodeSpec };
