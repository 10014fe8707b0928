// COSI resources the project reads, by their full canonical type (apid knows no short aliases).
export interface ResourceRef {
  namespace: string;
  type: string;
  id?: string;
}

export const MACHINE_TYPE: ResourceRef = { namespace: 'config', type: 'MachineTypes.config.talos.dev', id: 'machine-type' };
export const MACHINE_STATUS: ResourceRef = { namespace: 'runtime', type: 'MachineStatuses.runtime.talos.dev', id: 'machine' };
export const SERVICES = { namespace: 'runtime', type: 'Services.v1alpha1.talos.dev' } as const;
export const ETCD_LOCAL_MEMBER: ResourceRef = { namespace: 'etcd', type: 'EtcdMembers.etcd.talos.dev', id: 'local' };
export const TIME_STATUS: ResourceRef = { namespace: 'runtime', type: 'TimeStatuses.v1alpha1.talos.dev', id: 'node' };

export const ETCD_SERVICE_ID = 'etcd';

/** The OS CA as machined holds it: spec.issuingCA {crt, key}, each base64 of PEM; null on workers (no key). */
export const OS_ROOT_SECRETS: ResourceRef = { namespace: 'secrets', type: 'OSRootSecrets.secrets.talos.dev', id: 'os' };
/** Hardware disks; readable in maintenance mode, so preflight can check the install disk before any config. */
export const DISKS = { namespace: 'runtime', type: 'Disks.block.talos.dev' } as const;
/** Talos's node identity (pkg/machinery/resources/cluster/identity.go): spec `nodeId`; not sensitive. */
export const NODE_IDENTITY: ResourceRef = { namespace: 'cluster', type: 'Identities.cluster.talos.dev', id: 'local' };
/**
 * The node's default address (pkg/machinery/resources/network/node_address.go, NodeAddressDefaultID):
 * spec `addresses: [prefix]`, the smallest address of the alphabetically first link, set once and kept
 * while it stays on the host (internal/app/machined/pkg/controllers/network/node_address.go).
 */
export const NODE_DEFAULT_ADDRESS: ResourceRef = { namespace: 'network', type: 'NodeAddresses.net.talos.dev', id: 'default' };
