// The agreement's gRPC service, loaded from proto/autobootstrap/agreement/v1/agreement.proto, embedded in
// the binary as text like the Talos protos (src/talos/proto.ts).
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import agreementProto from '../../../proto/autobootstrap/agreement/v1/agreement.proto' with { type: 'text' };
import { LOADER_OPTIONS } from '../../talos/proto.ts';

let cached: grpc.ServiceClientConstructor | undefined;

/** The `autobootstrap.agreement.v1.Agreement` client constructor (its `.service` serves it). */
export function agreementService(): grpc.ServiceClientConstructor {
  if (!cached) {
    const root = new protobuf.Root();
    protobuf.parse(agreementProto, root, { keepCase: true });
    root.resolveAll();
    const tree = grpc.loadPackageDefinition(protoLoader.fromJSON(root.toJSON(), LOADER_OPTIONS));
    const pkg = ((tree.autobootstrap as grpc.GrpcObject).agreement as grpc.GrpcObject).v1 as grpc.GrpcObject;
    cached = pkg.Agreement as grpc.ServiceClientConstructor;
  }
  return cached;
}
