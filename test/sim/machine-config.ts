// The machine config a simulated node holds, in the format Talos writes to STATE/config.yaml:
// multi-document YAML, the v1alpha1 document (4-space indent, keys in Talos's order, PEMs as base64)
// plus newer-style documents. This is an independent writer of Talos's format, kept here so the
// project's own parser is tested against something it did not produce.
// The simulator serves configs Talos itself generated (generated-clusters.ts, talos-configs.ts); this
// renderer remains only for configs Talos would never generate (a control plane without cluster.etcd.ca, an
// init node), for tests of the renderer itself, and for the demo on a machine without Go (renderedConfigs).
import { stringify } from 'yaml';
import type { ClusterIdentity } from './cluster-identity.ts';
import type { MachineType } from './types.ts';

export interface MachineConfigInput {
  identity: ClusterIdentity;
  type: MachineType;
  hostname: string;
  ip: string;
  /** Prefix length of the node's network, for the interface address. */
  prefixLength?: number;
  gateway?: string;
  iface?: string;
  certSANs?: string[];
  talosVersion?: string;
  /** Control planes carry cluster.etcd.ca unless this is false; workers never do. */
  etcdConfigured?: boolean;
  /** Extension services configured by ExtensionServiceConfig documents (names without ext-). */
  extensions?: Record<string, string[]>;
  /** Write the v1alpha1 document after the others (Talos does not promise an order). */
  v1alpha1Last?: boolean;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const K8S_VERSION = 'v1.33.1';

function isControlPlane(type: MachineType): boolean {
  return type === 'controlplane' || type === 'init';
}

export function v1alpha1Document(input: MachineConfigInput): Record<string, unknown> {
  const { identity: id, type } = input;
  const cp = isControlPlane(type);
  const talosVersion = input.talosVersion ?? 'v1.13.0';
  const prefix = input.prefixLength ?? 24;

  const machine: Record<string, unknown> = {
    type,
    token: id.machineToken,
    ca: { crt: b64(id.osCa.certPem), key: cp ? b64(id.osCa.talosKeyPem) : '' },
    certSANs: input.certSANs ?? [],
    kubelet: {
      image: `ghcr.io/siderolabs/kubelet:${K8S_VERSION}`,
      defaultRuntimeSeccompProfileEnabled: true,
      disableManifestsDirectory: true,
    },
    network: {
      hostname: input.hostname,
      interfaces: [
        {
          interface: input.iface ?? 'eth0',
          addresses: [`${input.ip}/${prefix}`],
          ...(input.gateway ? { routes: [{ network: '0.0.0.0/0', gateway: input.gateway }] } : {}),
        },
      ],
    },
    install: {
      disk: '/dev/sda',
      image: `ghcr.io/siderolabs/installer:${talosVersion}`,
      wipe: false,
    },
    features: {
      rbac: true,
      stableHostname: true,
      apidCheckExtKeyUsage: true,
      diskQuotaSupport: true,
      kubePrism: { enabled: true, port: 7445 },
      hostDNS: { enabled: true, forwardKubeDNSToHost: true },
    },
  };
  if (cp) machine.nodeLabels = { 'node.kubernetes.io/exclude-from-external-load-balancers': '' };

  const cluster: Record<string, unknown> = {
    id: id.clusterId,
    secret: id.clusterSecret,
    controlPlane: { endpoint: id.controlPlaneEndpoint },
    clusterName: id.clusterName,
    network: { dnsDomain: 'cluster.local', podSubnets: ['10.244.0.0/16'], serviceSubnets: ['10.96.0.0/12'] },
    token: id.clusterToken,
  };
  if (cp) cluster.secretboxEncryptionSecret = id.secretboxEncryptionSecret;
  cluster.ca = { crt: b64(id.k8sCa.certPem), key: cp ? b64(id.k8sCa.talosKeyPem) : '' };
  if (cp) {
    cluster.aggregatorCA = { crt: b64(id.aggregatorCa.certPem), key: b64(id.aggregatorCa.talosKeyPem) };
    cluster.serviceAccount = { key: b64(id.serviceAccountKeyPem) };
    cluster.apiServer = {
      image: `registry.k8s.io/kube-apiserver:${K8S_VERSION}`,
      certSANs: [new URL(id.controlPlaneEndpoint).hostname],
    };
    cluster.controllerManager = { image: `registry.k8s.io/kube-controller-manager:${K8S_VERSION}` };
    cluster.proxy = { image: `registry.k8s.io/kube-proxy:${K8S_VERSION}` };
    cluster.scheduler = { image: `registry.k8s.io/kube-scheduler:${K8S_VERSION}` };
  }
  cluster.discovery = { enabled: true, registries: { kubernetes: { disabled: true }, service: {} } };
  if (cp && input.etcdConfigured !== false) {
    cluster.etcd = { ca: { crt: b64(id.etcdCa.certPem), key: b64(id.etcdCa.talosKeyPem) } };
  }

  return { version: 'v1alpha1', debug: false, persist: true, machine, cluster };
}

function otherDocuments(input: MachineConfigInput): Record<string, unknown>[] {
  const docs: Record<string, unknown>[] = [
    { apiVersion: 'v1alpha1', kind: 'ResolverConfig', nameservers: [{ address: '1.1.1.1' }, { address: '8.8.8.8' }] },
  ];
  for (const [name, environment] of Object.entries(input.extensions ?? {})) {
    docs.push({ apiVersion: 'v1alpha1', kind: 'ExtensionServiceConfig', name, environment });
  }
  return docs;
}

/** The whole config.yaml text. */
export function renderMachineConfig(input: MachineConfigInput): string {
  const v1 = v1alpha1Document(input);
  const others = otherDocuments(input);
  const docs = input.v1alpha1Last ? [...others, v1] : [v1, ...others];
  // Go's yaml.v3 (which Talos uses) indents by 4 and never folds long lines.
  return docs.map((d) => stringify(d, { indent: 4, lineWidth: 0 })).join('---\n');
}
