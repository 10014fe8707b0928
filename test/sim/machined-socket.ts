// machined's gRPC API on its unix socket, as an ext-* service on Talos v1.13+ meets it: no TLS; roles are
// taken only from the `talos-role` metadata (authz.MetadataOnly), then machined's rule table and resource
// access policy apply as on apid. A call without a role that allows it is PermissionDenied "not authorized".
// (The real socket also checks the caller's PID against the ext-* services; every caller here passes that.)
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { cosiStateClient } from '../../src/talos/proto.ts';
import { checkAccess, toProto } from './cosi-service.ts';
import { isAuthorized, NOT_AUTHORIZED, parseRoles } from './rbac.ts';
import { RpcError } from './rpc.ts';
import type { SimNode } from './node.ts';

export const ROLE_METADATA_KEY = 'talos-role';

export interface SocketCallRecord {
  method: string;
  roles: string[];
  code: status;
  message: string;
}

type Msg = Record<string, unknown>;

export class MachinedSocketServer {
  readonly calls: SocketCallRecord[] = [];
  private readonly server = new grpc.Server();

  private constructor(
    readonly path: string,
    private readonly node: SimNode,
  ) {}

  static async start(path: string, node: SimNode): Promise<MachinedSocketServer> {
    const s = new MachinedSocketServer(path, node);
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    const State = cosiStateClient();
    s.server.addService(State.service, {
      Get: (call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>) => s.get(call, cb),
    });
    await new Promise<void>((resolve, reject) =>
      s.server.bindAsync(`unix://${path}`, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
    );
    return s;
  }

  private get(call: grpc.ServerUnaryCall<Msg, Msg>, cb: grpc.sendUnaryData<Msg>): void {
    const method = '/cosi.resource.State/Get';
    const roles = parseRoles(call.metadata.get(ROLE_METADATA_KEY).map(String));
    const finish = (code: status, message: string, reply?: Msg) => {
      this.calls.push({ method, roles, code, message });
      if (code === status.OK) cb(null, reply);
      else cb({ code, details: message });
    };
    try {
      if (!isAuthorized(method, roles)) throw new RpcError(status.PERMISSION_DENIED, NOT_AUTHORIZED);
      const namespace = String(call.request.namespace ?? '');
      const type = String(call.request.type ?? '');
      const id = String(call.request.id ?? '');
      checkAccess({ roles }, namespace, type);
      this.node.refreshResources();
      const found = this.node.resources.get(namespace, type, id);
      if (!found) throw new RpcError(status.NOT_FOUND, `resource ${type}(${namespace}/${id}@undefined) doesn't exist`);
      finish(status.OK, '', { resource: toProto(found) });
    } catch (e) {
      if (e instanceof RpcError) finish(e.code, e.message);
      else finish(status.UNKNOWN, e instanceof Error ? e.message : String(e));
    }
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    rmSync(this.path, { force: true });
  }
}
