// The request pipeline every simulated apid method goes through, in Talos's order: the caller's
// identity from its verified client certificate, injected latency and failures, the RBAC rule, then
// the method itself. Every outcome, including refusals and abandoned calls, is recorded.
import * as grpc from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { commonName } from './client-cert-policy.ts';
import { isAuthorized, NOT_AUTHORIZED, parseRoles, ROLE } from './rbac.ts';
import type { SimNode } from './node.ts';
import { forwardStream, forwardUnary, impersonatedRoles, proxyDecision } from './proxy.ts';
import type { PeerCertificate } from 'node:tls';

/** A gRPC error the method returns on purpose. */
export class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
  }
}

/** The call ended without a reply from the method: the client gave up or its deadline passed. */
export class CallAbandoned extends Error {
  constructor(readonly code: status) {
    super(status[code]);
  }
}

export interface CallContext {
  node: SimNode;
  method: string;
  cn: string | undefined;
  roles: string[];
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

function deadlineMs(call: AnyCall): number | undefined {
  const d = call.getDeadline();
  if (d instanceof Date) return d.getTime();
  return Number.isFinite(d) ? (d as number) : undefined;
}

/**
 * Never completes: resolves into CallAbandoned when the client cancels or its deadline passes. This is how
 * a real node behaves when its etcd client waits for an endpoint that never answers (clientv3 waits for
 * ready), so only the caller's deadline ends the call.
 */
const DEADLINE_SLACK_MS = 100;

export function hang(call: AnyCall): Promise<never> {
  return new Promise<never>((_, reject) => {
    const deadline = deadlineMs(call);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (code: status) => {
      if (timer) clearTimeout(timer);
      reject(new CallAbandoned(code));
    };
    if (call.cancelled) return finish(status.CANCELLED);
    // The client's deadline is its own clock's; the server learns it from grpc-timeout after the request
    // travelled, so the client's cancellation can arrive a little before the server's copy passes.
    const nearDeadline = () => deadline !== undefined && Date.now() >= deadline - DEADLINE_SLACK_MS;
    (call as unknown as NodeJS.EventEmitter).once('cancelled', () => finish(nearDeadline() ? status.DEADLINE_EXCEEDED : status.CANCELLED));
    if (deadline !== undefined) timer = setTimeout(() => finish(status.DEADLINE_EXCEEDED), Math.max(0, deadline - Date.now()));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function identify(node: SimNode, call: AnyCall, method: string): CallContext {
  const peer = call.getAuthContext()?.sslPeerCertificate as PeerCertificate | undefined;
  const cn = peer ? commonName(peer) : undefined;
  // In maintenance mode apid asks for no certificate and treats every caller as os:reader; another apid
  // proxying a request (os:impersonator) passes the caller's roles in metadata (see proxy.ts).
  const certRoles = parseRoles(peer?.subject?.O);
  const roles = node.maintenance ? [ROLE.reader] : (impersonatedRoles(certRoles, call.metadata) ?? certRoles);
  return { node, method, cn, roles };
}

async function admit(ctx: CallContext): Promise<void> {
  if (ctx.node.latencyMs > 0) await sleep(ctx.node.latencyMs);
  const injected = ctx.node.faults.take(ctx.method);
  if (injected) throw new RpcError(injected.code, injected.message);
  if (!isAuthorized(ctx.method, ctx.roles)) throw new RpcError(status.PERMISSION_DENIED, NOT_AUTHORIZED);
}

/** undefined: serve here; else a promise of the target to forward to (rejected as apid's director refuses). */
function route(node: SimNode, call: AnyCall): Promise<string> | undefined {
  try {
    const decision = proxyDecision(node, call.metadata);
    return decision.kind === 'forward' ? Promise.resolve(decision.target) : undefined;
  } catch (e) {
    return Promise.reject(e);
  }
}

function outcomeOf(err: unknown): { code: status; message: string } {
  if (err instanceof RpcError || err instanceof CallAbandoned) return { code: err.code, message: err.message };
  // A Go error without a gRPC status reaches the client as Unknown.
  return { code: status.UNKNOWN, message: err instanceof Error ? err.message : String(err) };
}

export function unary<Req, Res>(
  node: SimNode,
  method: string,
  impl: (ctx: CallContext, request: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const ctx = identify(node, call as AnyCall, method);
    // apid's director first: a request for another node is forwarded one-to-one and never served here.
    const routed = route(node, call as AnyCall);
    if (routed) {
      routed.then(
        (target) => forwardUnary(node, method, target, ctx.roles, call as grpc.ServerUnaryCall<unknown, unknown>),
      ).then(
        (reply) => callback(null, reply as Res),
        (err: unknown) => callback({ code: outcomeOf(err).code, details: outcomeOf(err).message }),
      );
      return;
    }
    (async () => {
      await admit(ctx);
      return impl(ctx, call.request, call);
    })().then(
      (reply) => {
        if (call.cancelled) return node.recordCall(ctx, status.CANCELLED, 'the client went away before the reply');
        const lost = node.faults.takeLostReply(ctx.method);
        if (lost) {
          node.recordCall(ctx, lost.code, `reply lost after the method ran: ${lost.message}`);
          return callback({ code: lost.code, details: lost.message });
        }
        node.recordCall(ctx, status.OK, '');
        callback(null, reply);
      },
      (err: unknown) => {
        const { code, message } = outcomeOf(err);
        node.recordCall(ctx, code, message);
        if (!(err instanceof CallAbandoned) && !call.cancelled) callback({ code, details: message });
      },
    );
  };
}

export function serverStream<Req, Res>(
  node: SimNode,
  method: string,
  impl: (ctx: CallContext, request: Req, call: grpc.ServerWritableStream<Req, Res>) => Promise<void>,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    const ctx = identify(node, call as AnyCall, method);
    const routed = route(node, call as AnyCall);
    if (routed) {
      routed.then((target) => forwardStream(node, method, target, ctx.roles, call as grpc.ServerWritableStream<unknown, unknown>)).then(
        () => call.end(),
        (err: unknown) => call.emit('error', { code: outcomeOf(err).code, details: outcomeOf(err).message }),
      );
      return;
    }
    (async () => {
      await admit(ctx);
      await impl(ctx, call.request, call);
    })().then(
      () => {
        if (call.cancelled) return node.recordCall(ctx, status.CANCELLED, 'the client went away');
        node.recordCall(ctx, status.OK, '');
        call.end();
      },
      (err: unknown) => {
        const { code, message } = outcomeOf(err);
        node.recordCall(ctx, code, message);
        if (!(err instanceof CallAbandoned) && !call.cancelled) call.emit('error', { code, details: message });
      },
    );
  };
}
