// A client for one peer's agreement server: mutual TLS with this node's agreement client certificate; the
// peer's certificate must chain to the OS CA (grpc-js), name the dialled IP among its IP SANs and carry
// EKU serverAuth, as the apid probes check (src/discovery/tls-probe.ts, src/talos/channel.ts).
import * as grpc from '@grpc/grpc-js';
import type { PeerCertificate } from 'node:tls';
import { CHANNEL_OPTIONS, TLS_SERVER_NAME } from '../../talos/channel.ts';
import { closeAfterPendingResolution } from '../../talos/close-channel.ts';
import { certificateNamesAddress } from '../../talos/peer-identity.ts';
import type { Message } from '../core/messages.ts';
import { extKeyUsages, OID_SERVER_AUTH } from './certificates.ts';
import { decode, encode, type WireEnvelope } from './codec.ts';
import { agreementService } from './proto.ts';
import { fromWireStatus, type AgreementStatus, type WireStatus } from './status.ts';

export interface ClientIdentity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** Why a server certificate does not belong to `address`, or undefined when it does. */
export function serverRefusal(cert: PeerCertificate, address: string): Error | undefined {
  if (!certificateNamesAddress(cert.subjectaltname, address)) {
    return new Error(`agreement certificate at ${address} does not name that address (SANs: ${cert.subjectaltname ?? 'none'})`);
  }
  if (!extKeyUsages(cert.raw).includes(OID_SERVER_AUTH)) return new Error(`agreement certificate at ${address} lacks EKU serverAuth`);
  return undefined;
}

function commonName(cert: PeerCertificate): string | undefined {
  const cn = (cert.subject as unknown as Record<string, string | string[] | undefined> | undefined)?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

export class AgreementClient {
  private readonly client: grpc.Client & Record<string, unknown>;
  /** The node identity (CN) in the server certificate of the last handshake. */
  private serverNode: string | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    identity: ClientIdentity,
  ) {
    const creds = grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem), {
      checkServerIdentity: (_host, cert) => {
        const refusal = serverRefusal(cert, address);
        if (refusal === undefined) this.serverNode = commonName(cert);
        return refusal;
      },
    });
    const Ctor = agreementService();
    this.client = new Ctor(`${address}:${port}`, creds, { ...CHANNEL_OPTIONS, 'grpc.ssl_target_name_override': TLS_SERVER_NAME }) as grpc.Client & Record<string, unknown>;
  }

  private unary<Req, Res>(method: string, request: Req, timeoutMs: number): Promise<Res> {
    const fn = this.client[method] as (req: Req, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: Res) => void) => void;
    return new Promise((resolve, reject) => {
      fn.call(this.client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (e, r) => (e ? reject(e) : resolve(r)));
    });
  }

  /** Sends one message; resolves to the peer's replies to this node. Rejects with the gRPC error. */
  async deliver(message: Message, timeoutMs: number): Promise<Message[]> {
    const res = await this.unary<WireEnvelope, { replies: WireEnvelope[] }>('Deliver', encode(message), timeoutMs);
    const out: Message[] = [];
    for (const r of res.replies ?? []) {
      try {
        const reply = decode(r);
        // Only the node whose certificate answered may speak in its replies.
        if (reply.from === this.serverNode) out.push(reply);
      } catch {
        // A reply that does not decode counts for nothing.
      }
    }
    return out;
  }

  async status(timeoutMs: number): Promise<AgreementStatus> {
    return fromWireStatus(await this.unary<Record<string, never>, WireStatus>('Status', {}, timeoutMs));
  }

  /** Releases the channel; deferred by one immediate (src/talos/close-channel.ts says why). */
  close(): void {
    closeAfterPendingResolution(() => this.client.close());
  }
}
