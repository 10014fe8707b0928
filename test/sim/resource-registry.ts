// The COSI resource definitions and namespaces the simulated node registers. machined's access policy
// looks a requested type up by its lower-cased full name: an unregistered type (a talosctl alias such as
// `machinetype`) is PermissionDenied `resource type "..." is not supported`, sensitive types need
// os:admin, and an unregistered namespace is PermissionDenied `namespace "..." is not supported`.

export interface ResourceDefinition {
  type: string;
  defaultNamespace: string;
  sensitive: boolean;
  /** Controller that owns resources of this type on a real node (Metadata.owner). */
  owner: string;
}

const def = (type: string, defaultNamespace: string, owner: string, sensitive = false): ResourceDefinition => ({
  type,
  defaultNamespace,
  owner,
  sensitive,
});

export const TYPES = {
  machineType: 'MachineTypes.config.talos.dev',
  machineConfig: 'MachineConfigs.config.talos.dev',
  machineStatus: 'MachineStatuses.runtime.talos.dev',
  service: 'Services.v1alpha1.talos.dev',
  etcdMember: 'EtcdMembers.etcd.talos.dev',
  member: 'Members.cluster.talos.dev',
  identity: 'Identities.cluster.talos.dev',
  info: 'Infos.cluster.talos.dev',
  timeStatus: 'TimeStatuses.v1alpha1.talos.dev',
  osRoot: 'OSRootSecrets.secrets.talos.dev',
  disk: 'Disks.block.talos.dev',
  hostnameStatus: 'HostnameStatuses.net.talos.dev',
  nodeAddress: 'NodeAddresses.net.talos.dev',
  resourceDefinition: 'ResourceDefinitions.meta.cosi.dev',
} as const;

export const DEFINITIONS: ResourceDefinition[] = [
  def(TYPES.machineType, 'config', 'config.MachineTypeController'),
  def(TYPES.machineConfig, 'config', '', true),
  def(TYPES.machineStatus, 'runtime', 'runtime.MachineStatusController'),
  def(TYPES.service, 'runtime', 'v1alpha1.ServiceController'),
  def(TYPES.etcdMember, 'etcd', 'etcd.MemberController'),
  def(TYPES.member, 'cluster', 'cluster.MemberController'),
  def(TYPES.identity, 'cluster', 'cluster.NodeIdentityController'),
  def(TYPES.info, 'cluster', 'cluster.InfoController'),
  def(TYPES.timeStatus, 'runtime', 'time.SyncController'),
  def(TYPES.osRoot, 'secrets', 'secrets.RootController', true),
  def(TYPES.disk, 'runtime', 'block.DisksController'),
  def(TYPES.hostnameStatus, 'network', 'network.HostnameStatusController'),
  def(TYPES.nodeAddress, 'network', 'network.NodeAddressController'),
  def(TYPES.resourceDefinition, 'meta', ''),
  // Registered on a real node but never populated by the simulator: reads are allowed and find nothing.
  def('Affiliates.cluster.talos.dev', 'cluster', 'cluster.AffiliateMergeController'),
  def('Endpoints.kubernetes.talos.dev', 'controlplane', 'k8s.EndpointController'),
  def('Nodenames.kubernetes.talos.dev', 'k8s', 'k8s.NodenameController'),
  def('ExtensionStatuses.runtime.talos.dev', 'runtime', 'runtime.ExtensionStatusController'),
  def('AddressStatuses.net.talos.dev', 'network', 'network.AddressStatusController'),
  def('LinkStatuses.net.talos.dev', 'network', 'network.LinkStatusController'),
  def('EtcdSecrets.secrets.talos.dev', 'secrets', 'secrets.EtcdController', true),
  def('EtcdRootSecrets.secrets.talos.dev', 'secrets', 'secrets.RootController', true),
  def('KubernetesRootSecrets.secrets.talos.dev', 'secrets', 'secrets.RootController', true),
  def('ApiCertificates.secrets.talos.dev', 'secrets', 'secrets.APIController', true),
];

export const NAMESPACES = new Set([
  'meta',
  'runtime',
  'cluster',
  'cluster-raw',
  'config',
  'containers',
  'controlplane',
  'cri',
  'etcd',
  'files',
  'hardware',
  'k8s',
  'kubespan',
  'network',
  'network-config',
  'perf',
  'secrets',
  'security',
  'storage',
]);

const BY_ID = new Map(DEFINITIONS.map((d) => [d.type.toLowerCase(), d]));

/** The definition machined's access policy would find for a requested type (case-insensitive, as Talos lower-cases it). */
export function findDefinition(type: string): ResourceDefinition | undefined {
  return BY_ID.get(type.toLowerCase());
}

/** Aliases as COSI derives them (talosctl resolves these client-side; the API itself never accepts them). */
export function aliasesOf(type: string): string[] {
  const parts = type.toLowerCase().split('.');
  const plural = parts[0] ?? '';
  const singular = plural.endsWith('ses') ? plural.slice(0, -2) : plural.endsWith('s') ? plural.slice(0, -1) : plural;
  const out = new Set<string>();
  for (let i = 1; i <= parts.length; i++) {
    const suffix = parts.slice(1, i).join('.');
    out.add(suffix ? `${plural}.${suffix}` : plural);
    out.add(suffix ? `${singular}.${suffix}` : singular);
  }
  return [...out];
}
