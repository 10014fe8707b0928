// The agreement's gRPC server on TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT. TLS requires a client certificate
// that chains to this cluster's OS CA (grpc-js verifies the chain); Deliver also requires EKU clientAuth,
// the agreement role in O= and a CN equal to the message's sender, so only control planes (holders of the
// OS CA key) take part. Status needs only a verified client certificate (a talosconfig's will do).
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import type { Message } from '../core/messages.ts';
import { AGREEMENT_ROLE, extKeyUsages, OID_CLIENT_AUTH } from './certificates.ts';
import { decode, DecodeError, encode, type WireEnvelope } from './codec.ts';
import { agreementService } from './proto.ts';
import { toWireStatus, type AgreementStatus } from './status.ts';

export interface AgreementHandler {
  /**
   * One message from a peer; returns the replies addressed to that peer. Must persist before returning;
   * throws when it could not (the caller then sends nothing).
   */
  deliver(message: Message): Message[];
  status(): AgreementStatus;
  /** A caller refused before its message reached the protocol (logged by the handler). */
  refused(peer: string, reason: string): void;
}

export interface ServerIdentity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

function organizations(cert: PeerCertificate): string[] {
  const o = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.O;
  return o === undefined ? [] : Array.isArray(o) ? o : [o];
}

function commonName(cert: PeerCertificate): string | undefined {
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** Why a Deliver caller may not take part, or undefined when it may. */
export function deliverRefusal(cert: PeerCertificate | undefined, from: string): string | undefined {
  if (!cert || !cert.raw) return 'no client certificate';
  if (!extKeyUsages(cert.raw).includes(OID_CLIENT_AUTH)) return 'client certificate without EKU clientAuth';
  if (!organizations(cert).includes(AGREEMENT_ROLE)) return `client certificate without the role ${AGREEMENT_ROLE} in O, so not a control plane's autobootstrap daemon`;
  const cn = commonName(cert);
  if (cn !== from) return `message from ${from} signed by a certificate for ${cn ?? 'no CN'}`;
  return undefined;
}

export class AgreementServer {
  private readonly server = new grpc.Server();
  private bound: number | undefined;

  constructor(
    private readonly identity: ServerIdentity,
    private readonly handler: AgreementHandler,
  ) {
    this.server.addService(agreementService().service, {
      Deliver: (call: grpc.ServerUnaryCall<WireEnvelope, unknown>, callback: grpc.sendUnaryData<unknown>) => this.onDeliver(call, callback),
      Status: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => callback(null, toWireStatus(this.handler.status())),
    });
  }

  private onDeliver(call: grpc.ServerUnaryCall<WireEnvelope, unknown>, callback: grpc.sendUnaryData<unknown>): void {
    const cert = call.getAuthContext()?.sslPeerCertificate;
    const from = call.request?.from ?? '';
    const refusal = deliverRefusal(cert, from);
    if (refusal !== undefined) {
      this.handler.refused(`${from || '?'} at ${call.getPeer()}`, refusal);
      callback({ code: grpc.status.PERMISSION_DENIED, details: refusal });
      return;
    }
    let message: Message;
    try {
      message = decode(call.request);
    } catch (e) {
      const why = e instanceof DecodeError ? e.message : String(e);
      this.handler.refused(`${from} at ${call.getPeer()}`, `malformed message: ${why}`);
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `malformed message: ${why}` });
      return;
    }
    try {
      const replies = this.handler.deliver(message);
      callback(null, { replies: replies.map(encode) });
    } catch (e) {
      // Not persisted: answer nothing the protocol could count.
      callback({ code: grpc.status.INTERNAL, details: `agreement state not saved: ${String(e)}` });
    }
  }

  /** Binds `host:port` (port 0 picks one); resolves to the bound port. Throws with the bind error. */
  start(host: string, port: number): Promise<number> {
    const creds = grpc.ServerCredentials.createSsl(Buffer.from(this.identity.caPem), [{ private_key: Buffer.from(this.identity.keyPem), cert_chain: Buffer.from(this.identity.certPem) }], true);
    return new Promise((resolve, reject) => {
      this.server.bindAsync(`${host}:${port}`, creds, (err, bound) => {
        if (err) return reject(new Error(`cannot listen on ${host}:${port} for agreement messages: ${err.message}`));
        this.bound = bound;
        resolve(bound);
      });
    });
  }

  get port(): number | undefined {
    return this.bound;
  }

  stop(): void {
    this.server.forceShutdown();
  }
}
