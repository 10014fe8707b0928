// Machine configs written by Talos's own generator (test/oracle gen) for a simulated cluster: the cluster's
// identity (OS CA, etcd CA, name, id, secret, machine token, endpoint) is read from the generated control-plane
// config, and each node is served the generated config of its type, so the daemon and the operator commands
// meet exactly what talosctl gen config writes. The one change is the autobootstrap ExtensionServiceConfig
// document's environment, set per simulated cluster as an operator would (or the document removed on nodes
// without the extension), cluster.discovery.enabled as the group has it, and with v1alpha1Last the order of the documents. test/sim/machine-config.ts renders
// configs only where a test needs one Talos would never generate (a control plane without cluster.etcd.ca, ...).
import { createPrivateKey } from 'node:crypto';
import { parseAllDocuments, parseDocument, type Document } from 'yaml';
import { issuerFacts } from '../../src/pki/x509.ts';
import type { ClusterIdentity } from './cluster-identity.ts';
import { loadTalosKey, type CertificateAuthority } from './pki.ts';
import type { MachineType } from './types.ts';

/** The generated configs of one cluster: talosctl gen config's controlplane.yaml and worker.yaml. */
export interface TalosGeneratedConfigs {
  controlplane: string;
  worker: string;
}

type Json = Record<string, unknown>;
const map = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const text = (v: unknown): string => (typeof v === 'string' ? v : '');
const fromBase64 = (v: unknown): string => Buffer.from(text(v), 'base64').toString('utf8');

function documents(config: string): Json[] {
  return parseAllDocuments(config).map((d) => map(d.toJS()));
}

/** A CA from the base64 PEM pair Talos writes (machine.ca, cluster.etcd.ca). */
function caFromConfig(pair: Json, what: string): CertificateAuthority {
  const certPem = fromBase64(pair.crt);
  const talosKeyPem = fromBase64(pair.key);
  if (!certPem.includes('CERTIFICATE') || !talosKeyPem.includes('PRIVATE KEY')) throw new Error(`generated config: ${what} has no certificate and key`);
  const key = loadTalosKey(talosKeyPem);
  const certDer = Buffer.from(certPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const facts = issuerFacts(certDer);
  return {
    certPem,
    certDer,
    key,
    keyPem: createPrivateKey(key.export({ type: 'pkcs8', format: 'pem' })).export({ type: 'pkcs8', format: 'pem' }) as string,
    talosKeyPem,
    subjectNameDer: facts.subjectNameDer,
    ...(facts.subjectKeyId ? { subjectKeyId: facts.subjectKeyId } : {}),
  };
}

/**
 * The cluster identity the generated control-plane config carries; what it does not carry (the Kubernetes
 * CAs the simulator never uses) stays from `base`. Throws when the config is not a generated control plane's.
 */
export function identityFromTalosConfigs(configs: TalosGeneratedConfigs, base: ClusterIdentity): ClusterIdentity {
  const docs = documents(configs.controlplane);
  const v1 = docs.find((d) => d.version === 'v1alpha1' && d.kind === undefined);
  if (!v1) throw new Error('generated config: no v1alpha1 document');
  const machine = map(v1.machine);
  const cluster = map(v1.cluster);
  // v1.14 moves the cluster's name, endpoint and discovery identity into their own documents.
  const kube = docs.find((d) => d.kind === 'KubeClusterConfig') ?? {};
  const discovery = docs.find((d) => d.kind === 'DiscoveryIdentityConfig') ?? {};
  return {
    ...base,
    clusterName: text(cluster.clusterName) || text(kube.clusterName) || base.clusterName,
    clusterId: text(cluster.id) || text(discovery.clusterID) || base.clusterId,
    clusterSecret: text(cluster.secret) || text(discovery.clusterSecret) || base.clusterSecret,
    osCa: caFromConfig(map(machine.ca), 'machine.ca'),
    etcdCa: caFromConfig(map(map(cluster.etcd).ca), 'cluster.etcd.ca'),
    machineToken: text(machine.token) || base.machineToken,
    controlPlaneEndpoint: text(map(cluster.controlPlane).endpoint) || text(kube.endpoint) || base.controlPlaneEndpoint,
  };
}

/**
 * The generated config of the node's type, with each ExtensionServiceConfig named in `extensions` given that
 * environment and any other autobootstrap document removed.
 */
export function talosConfigFor(
  configs: TalosGeneratedConfigs,
  type: MachineType,
  extensions: Record<string, string[]>,
  options: { v1alpha1Last?: boolean; discovery?: boolean; clusterName?: string; controlPlaneEndpoint?: string } = {},
): string {
  const source = type === 'worker' ? configs.worker : configs.controlplane;
  // Talos's encoder joins documents with "---"; a document left as generated keeps its exact text, a changed
  // one is written back as Go's yaml.v3 writes (4-space indent, no folding).
  const chunks = source.split(/^---\n/m).filter((c) => c.trim() !== '');
  const docs = chunks.map((raw) => ({ raw, doc: parseDocument(raw), changed: false }));
  const kept = docs.filter((d) => {
    if (d.doc.get('kind') !== 'ExtensionServiceConfig') return true;
    const env = extensions[String(d.doc.get('name'))];
    if (!env) return false;
    d.doc.set('environment', env);
    d.changed = true;
    return true;
  });
  // cluster.discovery.enabled as the simulated group has it (an operator's patch, as talosctl gen config
  // --config-patch would apply it; generate.WithClusterDiscovery is the generator's own switch).
  const isV1 = (d: { doc: Document }) => d.doc.get('version') === 'v1alpha1' && !d.doc.has('kind');
  const v1 = kept.find(isV1);
  if (options.discovery === false && v1) {
    v1.doc.setIn(['cluster', 'discovery', 'enabled'], false);
    v1.changed = true;
  }
  // A cluster name or endpoint the test chose: what `talosctl gen config NAME ENDPOINT` would have written
  // (v1.14 keeps them in KubeClusterConfig, earlier contracts in the v1alpha1 document).
  const kube = kept.find((d) => d.doc.get('kind') === 'KubeClusterConfig');
  const set = (v1Path: string[], kubeKey: string, value: string | undefined) => {
    if (value === undefined) return;
    const target = v1?.doc.hasIn(v1Path) ? { d: v1, path: v1Path } : kube ? { d: kube, path: [kubeKey] } : undefined;
    if (!target || target.d.doc.getIn(target.path) === value) return;
    target.d.doc.setIn(target.path, value);
    target.d.changed = true;
  };
  set(['cluster', 'clusterName'], 'clusterName', options.clusterName);
  set(['cluster', 'controlPlane', 'endpoint'], 'endpoint', options.controlPlaneEndpoint);
  // Talos writes v1alpha1 first but its loader takes the documents in any order (the v1alpha1Last option).
  const ordered = options.v1alpha1Last ? [...kept.filter((d) => !isV1(d)), ...kept.filter(isV1)] : kept;
  return ordered.map((d) => (d.changed ? d.doc.toString({ indent: 4, lineWidth: 0 }) : d.raw)).join('---\n');
}
