// machined's own gRPC API on its unix socket (system/run/machined/machine.sock): no TLS; machined admits a
// caller by its process (since v1.13 any ext-* service) and takes the roles from the `talos-role` metadata,
// intersected with what that process may have. Only COSI Get is used here.
import * as grpc from '@grpc/grpc-js';
import YAML from 'yaml';
import { closeAfterPendingResolution } from './close-channel.ts';
import { cosiStateClient } from './proto.ts';
import type { ResourceRef } from './resources.ts';

/** constants.APIAuthzRoleMetadataKey in Talos. */
export const ROLE_METADATA_KEY = 'talos-role';
export const ADMIN_ROLE = 'os:admin';

export class SocketCallError extends Error {
  constructor(
    readonly code: number,
    readonly details: string,
  ) {
    super(`${grpc.status[code] ?? code}: ${details}`);
  }
}

export class MachinedSocketClient {
  private readonly state: grpc.Client;

  constructor(
    socketPath: string,
    private readonly deadlineMs: number,
  ) {
    const State = cosiStateClient();
    this.state = new State(`unix://${socketPath}`, grpc.credentials.createInsecure(), {
      'grpc.enable_retries': 0,
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 1_000,
    });
  }

  /** Releases the channel; deferred by one immediate (src/talos/close-channel.ts says why). */
  close(): void {
    closeAfterPendingResolution(() => this.state.close());
  }

  /** The resource's parsed yaml_spec; undefined when machined says it does not exist. */
  get(ref: ResourceRef): Promise<unknown> {
    const meta = new grpc.Metadata();
    meta.set(ROLE_METADATA_KEY, ADMIN_ROLE);
    const fn = (this.state as unknown as Record<string, Function>).Get as (
      req: unknown,
      meta: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, reply: { resource?: { spec?: { yaml_spec?: string } } }) => void,
    ) => void;
    return new Promise((resolve, reject) => {
      fn.call(this.state, { namespace: ref.namespace, type: ref.type, id: ref.id }, meta, { deadline: Date.now() + this.deadlineMs }, (err, reply) => {
        if (err) {
          if (err.code === grpc.status.NOT_FOUND) return resolve(undefined);
          return reject(new SocketCallError(err.code, err.code === grpc.status.DEADLINE_EXCEEDED ? 'deadline exceeded' : err.details || err.message));
        }
        const yamlSpec = reply.resource?.spec?.yaml_spec ?? '';
        try {
          // logLevel error: a YAML warning would quote the spec's text (the CA key) on stderr.
          resolve(yamlSpec === '' ? null : YAML.parse(yamlSpec, { logLevel: 'error' }));
        } catch {
          // The spec holds the CA key: say that it did not parse, never what it said.
          reject(new SocketCallError(grpc.status.DATA_LOSS, `${ref.type}/${ref.id}: yaml_spec is not valid YAML (${yamlSpec.length} characters)`));
        }
      });
    });
  }
}
