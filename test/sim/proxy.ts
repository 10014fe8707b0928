// apid's one-to-one proxying, as talosctl uses it to reach a node through an endpoint (`-e VIP -n node`).
// Mirrors Talos (siderolabs/talos main):
//   internal/app/apid/pkg/director/director.go Director: a request with `proxyfrom` metadata, or without
//     `node`, is served locally; `node` with more than one value is InvalidArgument "node metadata must be
//     single-valued"; otherwise singleDirector proxies one-to-one — even to the endpoint's own address (it
//     never short-cuts while forwarding is possible). A node that cannot forward (no client TLS config, as in
//     maintenance mode: remoteBackendFactory nil) serves a request for its own address locally and answers
//     any other with PermissionDenied "no request forwarding".
//   internal/app/apid/pkg/backend/apid.go: NewAPID refuses an empty target or one with a port (Internal
//     "invalid target \"…\""); GetConnection copies the incoming metadata, sets the caller's roles as
//     `talos-role` (authz.SetMetadata), sets `proxyfrom` to the caller's :authority and drops `:authority`,
//     `nodes` and `node`; it dials <target>:50000 with TLS verified against the OS CA, presenting apid's own
//     client certificate. One-to-one replies pass through unchanged (AppendInfo is one-to-many only).
//   pkg/grpc/middleware/authz/injector.go: the target trusts `talos-role` metadata only from a client whose
//     certificate carries os:impersonator — apid's own certificate does (its API certificate is issued with
//     that role); roles therefore carry over from the caller, not from the proxy.
// An unknown or unreachable target fails like any dial: Unavailable, with the dial error; a target whose
// certificate the OS CA does not sign (another cluster, or maintenance mode's per-boot CA) fails the TLS
// handshake: Unavailable "authentication handshake failed".
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { cosiStateClient, machineServiceClient } from '../../src/talos/proto.ts';
import type { SimNode } from './node.ts';
import { issueClientCertificate, type IssuedCertificate } from './pki.ts';
import { RpcError } from './rpc.ts';

export const ROLE_METADATA = 'talos-role';
const IMPERSONATOR = 'os:impersonator';

interface MethodDefinition {
  path: string;
  requestSerialize(v: unknown): Buffer;
  responseDeserialize(b: Buffer): unknown;
}

let definitions: Map<string, MethodDefinition> | undefined;
function definition(method: string): MethodDefinition {
  definitions ??= new Map(
    [machineServiceClient(), cosiStateClient()].flatMap((ctor) => Object.values((ctor as unknown as { service: Record<string, MethodDefinition> }).service).map((d) => [d.path, d] as const)),
  );
  const d = definitions.get(method);
  if (!d) throw new RpcError(status.UNIMPLEMENTED, `unknown method ${method}`);
  return d;
}

/** Where a request goes: served here, or forwarded to `target`; or refused as the director refuses it. */
export type ProxyDecision = { kind: 'local' } | { kind: 'forward'; target: string };

export function proxyDecision(node: SimNode, metadata: grpc.Metadata): ProxyDecision {
  if (metadata.get('proxyfrom').length > 0) return { kind: 'local' };
  const values = metadata.get('node');
  if (values.length === 0) return { kind: 'local' };
  if (values.length !== 1) throw new RpcError(status.INVALID_ARGUMENT, 'node metadata must be single-valued');
  const target = String(values[0]);
  if (node.maintenance) {
    // No client TLS config in maintenance mode: only the node's own address is served (IsLocalTarget).
    if (node.addresses.includes(target) || target === node.name) return { kind: 'local' };
    throw new RpcError(status.PERMISSION_DENIED, 'no request forwarding');
  }
  if (target === '' || /:\d+$/.test(target)) throw new RpcError(status.INTERNAL, `invalid target "${target}"`);
  return { kind: 'forward', target };
}

/** The roles a request carries: from `talos-role` metadata when the client is an impersonator (another apid). */
export function impersonatedRoles(certRoles: string[], metadata: grpc.Metadata): string[] | undefined {
  if (!certRoles.includes(IMPERSONATOR)) return undefined;
  const roles = metadata.get(ROLE_METADATA).map(String);
  return roles.length > 0 ? roles : undefined;
}

const apidClientCerts = new WeakMap<SimNode, IssuedCertificate>();

/** apid's own client certificate (role os:impersonator, CN the node's name), signed by its OS CA. */
function apidClientCert(node: SimNode): IssuedCertificate {
  let cert = apidClientCerts.get(node);
  if (!cert) {
    cert = issueClientCertificate(node.identity.osCa, { roles: [IMPERSONATOR], cn: node.name });
    apidClientCerts.set(node, cert);
  }
  return cert;
}

function outgoing(metadata: grpc.Metadata, roles: string[], authority: string): grpc.Metadata {
  const out = metadata.clone();
  for (const key of ['node', 'nodes', ':authority', ROLE_METADATA]) out.remove(key);
  for (const r of roles) out.add(ROLE_METADATA, r);
  out.set('proxyfrom', authority || 'unknown');
  return out;
}

function clientFor(node: SimNode, target: string): grpc.Client {
  const cert = apidClientCert(node);
  const creds = grpc.credentials.createSsl(Buffer.from(node.identity.osCa.certPem), Buffer.from(cert.keyPem), Buffer.from(cert.certPem), {
    // Go verifies the target's certificate for the host dialled (an IP SAN for an address).
    checkServerIdentity: (_h, c) => ((c.subjectaltname ?? '').split(', ').includes(`IP Address:${target}`) || (c.subjectaltname ?? '').split(', ').includes(`DNS:${target}`) ? undefined : new Error(`x509: certificate is not valid for ${target}`)),
  });
  return new grpc.Client(`${target}:50000`, creds, { 'grpc.ssl_target_name_override': 'apid.talos', 'grpc.default_authority': 'apid.talos', 'grpc.max_reconnect_backoff_ms': 1000, 'grpc.enable_retries': 0 });
}

/** grpc-js words a failed handshake or dial its own way; say what Go's grpc says: the cause, as Unavailable. */
function backendError(err: grpc.ServiceError): RpcError {
  if (err.code !== status.UNAVAILABLE) return new RpcError(err.code, err.details);
  const refused = /connect ECONNREFUSED (\S+?)\.?(?:\s|$)/.exec(err.details);
  if (refused) return new RpcError(status.UNAVAILABLE, `connection error: desc = "transport: Error while dialing: dial tcp ${refused[1]}: connect: connection refused"`);
  const handshake = /certificate|SSL|TLS|alert|x509/i.test(err.details);
  return new RpcError(status.UNAVAILABLE, handshake ? `connection error: desc = "transport: authentication handshake failed: ${err.details}"` : `connection error: desc = "transport: Error while dialing: ${err.details}"`);
}

function deadlineOf(call: grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>): grpc.Deadline {
  const d = call.getDeadline();
  return d instanceof Date || (typeof d === 'number' && Number.isFinite(d)) ? d : Date.now() + 30_000;
}

export function forwardUnary(node: SimNode, method: string, target: string, roles: string[], call: grpc.ServerUnaryCall<unknown, unknown>): Promise<unknown> {
  const d = definition(method);
  const client = clientFor(node, target);
  const meta = outgoing(call.metadata, roles, String(call.metadata.get(':authority')[0] ?? ''));
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(d.path, d.requestSerialize, (b: Buffer) => d.responseDeserialize(b), call.request, meta, { deadline: deadlineOf(call) }, (err, reply) => {
      client.close();
      if (err) reject(backendError(err));
      else resolve(reply);
    });
  });
}

export function forwardStream(node: SimNode, method: string, target: string, roles: string[], call: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  const d = definition(method);
  const client = clientFor(node, target);
  const meta = outgoing(call.metadata, roles, String(call.metadata.get(':authority')[0] ?? ''));
  return new Promise((resolve, reject) => {
    const stream = client.makeServerStreamRequest(d.path, d.requestSerialize, (b: Buffer) => d.responseDeserialize(b), call.request, meta, { deadline: deadlineOf(call) });
    call.on('cancelled', () => stream.cancel());
    stream.on('data', (m) => call.write(m));
    stream.on('error', (err: grpc.ServiceError) => {
      client.close();
      reject(backendError(err));
    });
    stream.on('end', () => {
      client.close();
      resolve();
    });
  });
}
