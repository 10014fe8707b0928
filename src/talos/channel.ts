// gRPC channels to apid over mutual TLS: the chain is verified against machine.ca.crt and the dialled IP
// is checked against the certificate's IP SANs.
import * as grpc from '@grpc/grpc-js';
import { certificateNamesAddress } from './peer-identity.ts';

/**
 * TLS server name sent to apid. grpc-js would send the dialled IP, which Bun refuses as a server name;
 * apid ignores SNI, and identity is checked against the IP SANs instead.
 */
export const TLS_SERVER_NAME = 'apid.talos';

export interface ClientIdentity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.ssl_target_name_override': TLS_SERVER_NAME,
  'grpc.default_authority': TLS_SERVER_NAME,
  // A probe must fail fast rather than sit in grpc-js's reconnect backoff.
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 2_000,
  'grpc.enable_retries': 0,
};

export class PeerIdentityError extends Error {}

/**
 * `pinnedFingerprint` (SHA-256, as Node prints it) binds the channel to the very certificate an earlier
 * handshake verified: every fact read over it then comes from the node that presented that certificate. A
 * certificate regenerated in between fails the call, which the caller reads as "no answer".
 */
export function mutualTlsCredentials(address: string, identity: ClientIdentity, pinnedFingerprint?: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(Buffer.from(identity.caPem), Buffer.from(identity.keyPem), Buffer.from(identity.certPem), {
    checkServerIdentity: (_host, cert) => {
      if (!certificateNamesAddress(cert.subjectaltname, address)) {
        return new PeerIdentityError(`apid certificate at ${address} does not name that address (SANs: ${cert.subjectaltname ?? 'none'})`);
      }
      if (pinnedFingerprint !== undefined && cert.fingerprint256 !== pinnedFingerprint) {
        return new PeerIdentityError(`apid certificate at ${address} changed since it was verified (regenerated?)`);
      }
      return undefined;
    },
  });
}
