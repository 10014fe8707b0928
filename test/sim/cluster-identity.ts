// Everything the nodes of one Talos cluster share: the secrets bundle `talosctl gen secrets` would make.
// Nodes of "another cluster" get their own identity, hence their own OS CA, so their apid certificates
// fail verification against this cluster's CA and their client certificates are refused.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createCa, createOsCa, talosKeyPem, type CertificateAuthority } from './pki.ts';

export interface ClusterIdentity {
  /** The simulator's name for this group of nodes. */
  group: string;
  clusterName: string;
  /** cluster.id: base64url of 32 random bytes, as Talos generates it. */
  clusterId: string;
  clusterSecret: string;
  osCa: CertificateAuthority;
  etcdCa: CertificateAuthority;
  k8sCa: CertificateAuthority;
  aggregatorCa: CertificateAuthority;
  serviceAccountKeyPem: string;
  machineToken: string;
  clusterToken: string;
  secretboxEncryptionSecret: string;
  /** cluster.controlPlane.endpoint */
  controlPlaneEndpoint: string;
}

const TOKEN_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A bootstrap-token-shaped string (6.16 characters), as Talos uses for machine.token and cluster.token. */
function token(): string {
  const pick = (n: number) =>
    Array.from(randomBytes(n), (b) => TOKEN_ALPHABET[b % TOKEN_ALPHABET.length]).join('');
  return `${pick(6)}.${pick(16)}`;
}

export function createClusterIdentity(group: string, options: { clusterName?: string; controlPlaneEndpoint?: string } = {}): ClusterIdentity {
  const clusterName = options.clusterName ?? (group === 'default' ? 'sim' : `sim-${group}`);
  const serviceAccount = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    group,
    clusterName,
    clusterId: randomBytes(32).toString('base64url') + '=',
    clusterSecret: randomBytes(32).toString('base64'),
    osCa: createOsCa(),
    etcdCa: createCa({ organization: 'etcd', kind: 'ecdsa' }),
    k8sCa: createCa({ organization: 'kubernetes', kind: 'ecdsa' }),
    aggregatorCa: createCa({ organization: '', kind: 'ecdsa' }),
    serviceAccountKeyPem: talosKeyPem(serviceAccount.privateKey),
    machineToken: token(),
    clusterToken: token(),
    secretboxEncryptionSecret: randomBytes(32).toString('base64'),
    // A name, as `talosctl gen config NAME https://...` is usually given; it does not resolve in the
    // simulator, so the static etcd endpoint Talos derives from it stays empty (see etcd-endpoints.ts).
    controlPlaneEndpoint: options.controlPlaneEndpoint ?? `https://${clusterName}.cluster.invalid:6443`,
  };
}
