// Options and records of the Talos API simulator.
import type { TalosGeneratedConfigs } from './talos-configs.ts';

export type MachineType = 'controlplane' | 'worker' | 'init';

/**
 * One hardware disk as Talos reports it in Disks.block.talos.dev (fields and yaml names of
 * pkg/machinery/resources/block/disk.go DiskSpec); `id` is the resource id, the kernel device name.
 */
export interface SimDisk {
  id: string;
  dev_path?: string;
  size: number;
  pretty_size?: string;
  io_size?: number;
  sector_size?: number;
  readonly?: boolean;
  cdrom?: boolean;
  model?: string;
  serial?: string;
  modalias?: string;
  wwid?: string;
  uuid?: string;
  bus_path?: string;
  sub_system?: string;
  transport?: string;
  rotational?: boolean;
  symlinks?: string[];
}

export interface NodeSpec {
  /** Node name and hostname (Talos's nodename); also the apid certificate's CN. */
  name: string;
  /** Loopback address the node's apid listens on, e.g. 127.0.5.1. */
  ip: string;
  /** apid port; 50000 unless a test needs another. */
  port?: number;
  type: MachineType;
  /** /proc/stat btime, Unix seconds. Defaults to the simulator's start minus a per-node offset. */
  bootTime?: number;
  /** Cluster group: nodes of different groups have different OS CAs and never see each other. Default "default". */
  cluster?: string;
  /** Start listening at once (default true). */
  up?: boolean;
  /** Added before every reply. */
  latencyMs?: number;
  /** CRI running and healthy (Bootstrap's first precondition). Default true. */
  criReady?: boolean;
  /** Time synchronised. Default true. */
  timeSynced?: boolean;
  /**
   * machine.time.bootTimeout, scaled: a node that starts unsynced reports synced once this passes without a
   * sync (Talos's time.SyncController), after which NTP may still step its clock (stepClock).
   */
  timeBootTimeoutMs?: number;
  /** The machine config carries cluster.etcd.ca. Default true for control planes, always false for workers. */
  etcdConfigured?: boolean;
  /** A reboot was requested (Bootstrap refuses). Default false. */
  pendingReboot?: boolean;
  /** Booted without a machine config: no client certificate asked, everyone os:reader, self-signed server CA. */
  maintenance?: boolean;
  /** Talos <= v1.12 answers Bootstrap on a worker with FailedPrecondition instead of Unimplemented. */
  legacyNonControlPlaneError?: boolean;
  /** Version.tag; default v1.13.0. */
  talosVersion?: string;
  /** Extension services this node runs (ids without the ext- prefix). Default ["autobootstrap"]. */
  extensions?: string[];
  /** Interface that carries the default route in the fixture route table. Default eth0. */
  interface?: string;
  /**
   * Further addresses of the node (several NICs), all in its apid certificate and its Members entry; a
   * closed one (listening: false) refuses connections on the apid port, e.g. a public address behind a firewall.
   */
  addresses?: { ip: string; listening?: boolean }[];
  /** NodeAddresses/default (the smallest address of the alphabetically first link); default `ip`. */
  defaultAddress?: string;
  /** Extra machine.certSANs (also added to the apid certificate). */
  certSANs?: string[];
  /** Disks the node reports (Disks.block.talos.dev); default one 21 GB virtio disk /dev/sda. */
  disks?: SimDisk[];
}

export interface ClusterGroupOptions {
  clusterName?: string;
  /** cluster.discovery.enabled (Talos default true): Members resources exist and feed the etcd endpoints. */
  discovery?: boolean;
  controlPlaneEndpoint?: string;
  /**
   * Configs from Talos's own generator for this group (e.g. test/oracle gen's for one contract), instead of
   * the group's cluster from build/oracle/sim-clusters: the cluster's secrets are theirs and every worker and
   * control plane with etcd configured is served them (talos-configs.ts).
   */
  talosConfigs?: TalosGeneratedConfigs;
}

export interface SimulatorOptions {
  nodes: NodeSpec[];
  /** Per-group cluster options, keyed by NodeSpec.cluster. */
  clusters?: Record<string, ClusterGroupOptions>;
  /** From an etcd cluster being reachable to an unjoined control plane's etcd running as its member. Default 500 ms. */
  joinDelayMs?: number;
  /** From Bootstrap (or a node with etcd data coming up) to its etcd running healthy. Default 200 ms. */
  etcdStartDelayMs?: number;
  /** Talos's EtcdJoinTimeout (30 min), scaled: Preparing without data turns Failed after it. Default never. */
  joinTimeoutMs?: number;
  /**
   * Talos's BootTimeout (70 min), scaled: a control plane whose etcd is not running this long after it came
   * up (and that accepted no Bootstrap, which releases the boot wait) fails its boot and reboots. Default never.
   */
  bootTimeoutMs?: number;
  /** apid regenerates its certificate this often (Talos: every 12 h, scaled); default never. */
  apidCertRotationMs?: number;
  /**
   * ms an accepted Bootstrap call takes before it returns, showing etcd Finished "Bootstrap requested" meanwhile
   * (Talos: while BootstrapEtcd replaces the service; after the reply it is gone). Default 0.
   */
  bootstrapStopVisibleMs?: number;
  /** Bootstrap waits this long for time sync before FailedPrecondition; Talos waits 5 s. */
  timeSyncWaitMs?: number;
  /** From ApplyConfiguration in maintenance mode to the node serving with its configuration. Default 300 ms. */
  applyRebootMs?: number;
  /** Nodes on which an etcd cluster already exists at start, with every control plane of its group joined. */
  bootstrapped?: string | string[];
  /** Write each node's host-root fixture tree under this directory (dir/<name>). */
  hostRootDir?: string;
  /** Serve machined's socket at <host root>/system/run/machined/machine.sock for every node (needs hostRootDir). */
  machinedSockets?: boolean;
  /** Put the v1alpha1 document after the other machine-config documents. */
  v1alpha1Last?: boolean;
  /**
   * Serve configs the simulator renders itself (machine-config.ts) instead of Talos-generated ones
   * (generated-clusters.ts, `make oracle`). Only for the demo on a machine without Go, and for tests that need
   * a config Talos would never generate; each such use says why.
   */
  renderedConfigs?: boolean;
  /** Randomness for endpoint choice (Talos shuffles etcd endpoints); default Math.random. */
  random?: () => number;
}

export interface CallRecord {
  at: Date;
  node: string;
  /** Full gRPC path, e.g. /machine.MachineService/Bootstrap. */
  method: string;
  callerCn: string | undefined;
  roles: string[];
  code: number;
  codeName: string;
  message: string;
}

export interface BootstrapRecord {
  at: Date;
  node: string;
  callerCn: string | undefined;
  code: number;
  codeName: string;
  message: string;
}

export interface EtcdMemberInfo {
  /** uint64 as a decimal string, as EtcdMemberList carries it. */
  id: string;
  node: string;
  hostname: string;
  peerUrls: string[];
  clientUrls: string[];
  isLearner: boolean;
  joinedAt: Date;
}

export interface EtcdClusterRecord {
  /** uint64 decimal. */
  id: string;
  group: string;
  founder: string;
  formedAt: Date;
  /** How it came to be: a Bootstrap call, or the `bootstrapped` start option. */
  origin: 'bootstrap' | 'preset';
  members: EtcdMemberInfo[];
}

export interface TlsRefusalRecord {
  at: Date;
  node: string;
  reason: string;
  /** Client certificate subject as Go prints it (CN=...,O=...), when one was presented. */
  subject: string | undefined;
  cn: string | undefined;
}

export type SimEvent =
  | { kind: 'call'; record: CallRecord }
  | { kind: 'bootstrap'; record: BootstrapRecord }
  | { kind: 'etcd-formed'; at: Date; node: string; clusterId: string; group: string }
  | { kind: 'etcd-joined'; at: Date; node: string; clusterId: string; memberId: string }
  | { kind: 'etcd-running'; at: Date; node: string; clusterId: string; memberId: string }
  | { kind: 'tls-refused'; record: TlsRefusalRecord }
  | { kind: 'node-up'; at: Date; node: string }
  | { kind: 'node-down'; at: Date; node: string }
  /** apid's certificate was regenerated (new key and serial, same names): addresses or time sync changed, or its period passed. */
  | { kind: 'apid-cert-regenerated'; at: Date; node: string; reason: string }
  /** The node's clock was stepped (an NTP offset over 400 ms is applied as a jump): /proc/stat btime moves with it. */
  | { kind: 'clock-stepped'; at: Date; node: string; deltaMs: number; bootTime: number }
  /** A reboot: new boot time; services reset; an accepted Bootstrap whose etcd had not started is lost. */
  | { kind: 'node-rebooted'; at: Date; node: string; bootTime: number; lostBootstrap: boolean }
  | { kind: 'config-applied'; at: Date; node: string; mode: string; callerCn: string | undefined };
