// Loads the Talos API subset from the .proto files embedded in the binary.
// Imported as text so that `bun build --compile` carries them; no file is read at run time.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import Long from 'long';
import protobuf from 'protobufjs';
import statusProto from '../../proto/google/rpc/status.proto' with { type: 'text' };
import commonProto from '../../proto/common/common.proto' with { type: 'text' };
import machineProto from '../../proto/machine/machine.proto' with { type: 'text' };
import cosiProto from '../../proto/cosi/resource.proto' with { type: 'text' };

// protobufjs finds `long` with a dynamic require that a compiled binary cannot resolve; without it
// uint64 values (etcd member ids, boot times) would be decoded as lossy floats.
protobuf.util.Long = Long;
protobuf.configure();

const WELL_KNOWN = [
  'google/protobuf/any.proto',
  'google/protobuf/duration.proto',
  'google/protobuf/empty.proto',
  'google/protobuf/timestamp.proto',
];

/** Options shared by every client and by the simulator: 64-bit integers as decimal strings, names as in the .proto. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

function buildRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const name of WELL_KNOWN) {
    const json = protobuf.common.get(name);
    if (!json) throw new Error(`protobufjs lacks the well-known type file ${name}`);
    root.addJSON(json.nested ?? {});
  }
  for (const source of [statusProto, commonProto, machineProto, cosiProto]) {
    protobuf.parse(source, root, { keepCase: true });
  }
  root.resolveAll();
  return root;
}

let cached: grpc.GrpcObject | undefined;

/** The loaded gRPC package tree: `machine.MachineService`, `cosi.resource.State`, ... */
export function talosApi(): grpc.GrpcObject {
  if (!cached) {
    const definition = protoLoader.fromJSON(buildRoot().toJSON(), LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition);
  }
  return cached;
}

type ServiceCtor = grpc.ServiceClientConstructor;

export function machineServiceClient(): ServiceCtor {
  return (talosApi().machine as grpc.GrpcObject).MachineService as ServiceCtor;
}

export function cosiStateClient(): ServiceCtor {
  return ((talosApi().cosi as grpc.GrpcObject).resource as grpc.GrpcObject).State as ServiceCtor;
}
