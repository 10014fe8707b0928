// A small promise-based Talos API client for tests of the simulator (and for end-to-end tests that want
// to look at a simulated node themselves). Connection settings are those the project's clients use:
// mutual TLS against the OS CA, the node's hostname as TLS name (Bun refuses an IP as servername).
import * as grpc from '@grpc/grpc-js';
import { cosiStateClient, machineServiceClient } from '../../src/talos/proto.ts';
import type { IssuedCertificate } from './pki.ts';

type Msg = Record<string, unknown>;
type Method = (request: Msg, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, reply: Msg) => void) => grpc.ClientUnaryCall;
type StreamMethod = (request: Msg, options: grpc.CallOptions) => grpc.ClientReadableStream<Msg>;

export interface Target {
  ip: string;
  port: number;
  /** Name to present as TLS server name (the apid certificate carries it as a DNS SAN). */
  name: string;
}

export interface ClientIdentity {
  caPem: string;
  /** Omit for an insecure (maintenance-mode) connection. */
  cert?: Pick<IssuedCertificate, 'certPem' | 'keyPem'>;
}

export class SimClient {
  readonly machine: grpc.Client;
  readonly cosi: grpc.Client;

  constructor(target: Target, identity: ClientIdentity) {
    const creds = identity.cert
      ? grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.cert.keyPem), Buffer.from(identity.cert.certPem), {
          checkServerIdentity: () => undefined,
        })
      : grpc.credentials.createSsl(null, null, null, { checkServerIdentity: () => undefined, rejectUnauthorized: false });
    const options: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': target.name };
    const address = `${target.ip}:${target.port}`;
    this.machine = new (machineServiceClient())(address, creds, options);
    this.cosi = new (cosiStateClient())(address, creds, options);
  }

  /** A unary MachineService call; rejects with the grpc.ServiceError. */
  call(method: string, request: Msg = {}, timeoutMs = 3000): Promise<Msg> {
    return unaryCall(this.machine, method, request, timeoutMs);
  }

  cosiGet(namespace: string, type: string, id: string, timeoutMs = 3000): Promise<Msg> {
    return unaryCall(this.cosi, 'Get', { namespace, type, id }, timeoutMs);
  }

  cosiList(namespace: string, type: string, timeoutMs = 3000): Promise<Msg[]> {
    return new Promise((resolve, reject) => {
      const fn = (this.cosi as unknown as Record<string, StreamMethod>).List as StreamMethod;
      const stream = fn.call(this.cosi, { namespace, type }, { deadline: Date.now() + timeoutMs });
      const out: Msg[] = [];
      stream.on('data', (m: Msg) => out.push(m));
      stream.on('error', reject);
      stream.on('end', () => resolve(out));
    });
  }

  /** Opens a Watch; returns the stream (caller cancels it). */
  cosiWatch(request: Msg): grpc.ClientReadableStream<Msg> {
    const fn = (this.cosi as unknown as Record<string, StreamMethod>).Watch as StreamMethod;
    return fn.call(this.cosi, request, {});
  }

  close(): void {
    this.machine.close();
    this.cosi.close();
  }
}

function unaryCall(client: grpc.Client, method: string, request: Msg, timeoutMs: number): Promise<Msg> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, Method>)[method];
    if (!fn) return reject(new Error(`no method ${method}`));
    fn.call(client, request, { deadline: Date.now() + timeoutMs }, (err, reply) => (err ? reject(err) : resolve(reply)));
  });
}

/** Resolves with the error of a call expected to fail. */
export async function expectError(promise: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, it succeeded');
}

/** The YAML spec of a COSI Get reply. */
export function yamlSpecOf(reply: Msg): string {
  const resource = reply.resource as { spec?: { yaml_spec?: string } } | undefined;
  return resource?.spec?.yaml_spec ?? '';
}
