// COSI's `Spec.proto_spec`: Talos fills it beside `yaml_spec`, and Talos's Go client (talosctl) decodes a
// registered resource type from proto_spec alone (cosi-project/runtime pkg/resource/protobuf/registry.go,
// UnmarshalResource). Each spec is encoded as Talos encodes it: protoenc over the spec struct's
// `protobuf:"N"` tags (pkg/machinery/resources/...), with machinery's custom encoders for netip.Addr
// (common.NetIP{ip}) and x509 PEM types (common.PEMEncodedCertificateAndKey{crt, key})
// (pkg/machinery/proto/proto.go), and hand-written protobuf for MachineType (config.MachineTypeSpec) and
// MachineConfig (config.MachineConfigSpec{yaml_marshalled}). The fields come from the YAML the simulator
// serves, so the two never disagree.
import { parse } from 'yaml';
import { TYPES } from './resource-registry.ts';

type Kind =
  | 'string'
  | 'bool'
  | 'varint'
  | 'strings'
  | 'addrs'
  | 'pemBytes'
  | { enum: readonly string[] }
  | { message: Schema }
  | { messages: Schema };
type Schema = Record<string, [number, Kind]>;

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v >= 0x80n) {
    out.push(Number((v & 0x7fn) | 0x80n));
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));
const lengthDelimited = (field: number, bytes: Uint8Array | number[]) => [...key(field, 2), ...varint(BigInt(bytes.length)), ...bytes];

function ipBytes(text: string): number[] {
  const v4 = text.split('.');
  if (v4.length === 4) return v4.map(Number);
  throw new Error(`proto-spec: only IPv4 addresses are simulated, not ${text}`);
}

function encodeField(field: number, kind: Kind, value: unknown): number[] {
  if (value === undefined || value === null) return [];
  if (kind === 'string') return value === '' ? [] : lengthDelimited(field, Buffer.from(String(value)));
  if (kind === 'bool') return value === true ? [...key(field, 0), 1] : [];
  if (kind === 'varint') return BigInt(value as number | string) === 0n ? [] : [...key(field, 0), ...varint(BigInt(value as number | string))];
  if (kind === 'strings') return (value as unknown[]).flatMap((s) => lengthDelimited(field, Buffer.from(String(s))));
  if (kind === 'addrs') return (value as unknown[]).flatMap((a) => lengthDelimited(field, lengthDelimited(1, ipBytes(String(a)))));
  // x509 PEM types marshal to YAML as base64 of the PEM; protobuf carries the PEM bytes.
  if (kind === 'pemBytes') return value === '' ? [] : lengthDelimited(field, Buffer.from(String(value), 'base64'));
  if ('enum' in kind) {
    const n = kind.enum.indexOf(String(value));
    if (n < 0) throw new Error(`proto-spec: ${String(value)} is not one of ${kind.enum.join(', ')}`);
    return n === 0 ? [] : [...key(field, 0), ...varint(BigInt(n))];
  }
  if ('message' in kind) return lengthDelimited(field, encode(kind.message, value as Record<string, unknown>));
  return (value as Record<string, unknown>[]).flatMap((m) => lengthDelimited(field, encode(kind.messages, m)));
}

function encode(schema: Schema, value: Record<string, unknown>): number[] {
  return Object.entries(schema)
    .sort(([, [a]], [, [b]]) => a - b)
    .flatMap(([name, [field, kind]]) => encodeField(field, kind, value[name]));
}

// pkg/machinery/config/machine/machine.go (Type) and resources/runtime/machinestage.go (MachineStage), iota order.
const MACHINE_TYPES = ['unknown', 'init', 'controlplane', 'worker'] as const;
const MACHINE_STAGES = ['unknown', 'booting', 'installing', 'maintenance', 'running', 'rebooting', 'shutting down', 'resetting', 'upgrading'] as const;

const PEM_PAIR: Schema = { crt: [1, 'pemBytes'], key: [2, 'pemBytes'] };

const SCHEMAS: Record<string, Schema> = {
  // resources/runtime/machine_status.go
  [TYPES.machineStatus]: {
    stage: [1, { enum: MACHINE_STAGES }],
    status: [2, { message: { ready: [1, 'bool'], unmetConditions: [2, { messages: { name: [1, 'string'], reason: [2, 'string'] } }] } }],
  },
  // resources/v1alpha1/service.go
  [TYPES.service]: { running: [1, 'bool'], healthy: [2, 'bool'], unknown: [3, 'bool'] },
  // resources/etcd/member.go
  [TYPES.etcdMember]: { memberID: [1, 'string'] },
  // resources/cluster/member.go
  [TYPES.member]: {
    nodeId: [1, 'string'],
    addresses: [2, 'addrs'],
    hostname: [3, 'string'],
    machineType: [4, { enum: MACHINE_TYPES }],
    operatingSystem: [5, 'string'],
    controlPlane: [6, { message: { port: [1, 'varint'] } }],
  },
  // resources/cluster/identity.go
  [TYPES.identity]: { nodeId: [1, 'string'] },
  // resources/cluster/info.go
  [TYPES.info]: { clusterId: [1, 'string'], clusterName: [2, 'string'] },
  // resources/time/status.go
  [TYPES.timeStatus]: { synced: [1, 'bool'], epoch: [2, 'varint'], syncDisabled: [3, 'bool'] },
  // resources/block/disk.go
  [TYPES.disk]: {
    size: [1, 'varint'],
    io_size: [2, 'varint'],
    sector_size: [3, 'varint'],
    readonly: [4, 'bool'],
    model: [5, 'string'],
    serial: [6, 'string'],
    modalias: [7, 'string'],
    wwid: [8, 'string'],
    bus_path: [9, 'string'],
    sub_system: [10, 'string'],
    transport: [11, 'string'],
    rotational: [12, 'bool'],
    cdrom: [13, 'bool'],
    dev_path: [14, 'string'],
    pretty_size: [15, 'string'],
    secondary_disks: [16, 'strings'],
    uuid: [17, 'string'],
    symlinks: [18, 'strings'],
    firmware_version: [19, 'string'],
  },
  // resources/secrets/os_root.go
  [TYPES.osRoot]: {
    issuingCA: [1, { message: PEM_PAIR }],
    certSANIPs: [2, 'addrs'],
    certSANDNSNames: [3, 'strings'],
    token: [4, 'string'],
    acceptedCAs: [5, { messages: { crt: [1, 'pemBytes'] } }],
  },
};

/**
 * The proto_spec bytes Talos sends for a resource of `type` whose YAML spec is `yaml`; empty for types the
 * simulator does not encode (their YAML is still served). Throws on a value the schema cannot carry.
 */
export function protoSpecOf(type: string, yaml: string): Buffer {
  if (yaml === '') return Buffer.alloc(0);
  // resources/config/machine_type.go: config.MachineTypeSpec { MachineType machine_type = 1 }.
  if (type === TYPES.machineType) return Buffer.from(encodeField(1, { enum: MACHINE_TYPES }, parse(yaml)));
  // resources/config/machine_config.go: config.MachineConfigSpec { bytes yaml_marshalled = 1 }.
  if (type === TYPES.machineConfig) return Buffer.from(lengthDelimited(1, Buffer.from(yaml)));
  const schema = SCHEMAS[type];
  if (!schema) return Buffer.alloc(0);
  return Buffer.from(encode(schema, (parse(yaml) ?? {}) as Record<string, unknown>));
}
