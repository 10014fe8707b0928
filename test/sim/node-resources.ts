// The COSI resources a node serves, derived from its state. Spec field names are those of Talos's
// YAML marshalling (pkg/machinery/resources/...), which is what a client reads from yaml_spec.
import { aliasesOf, DEFINITIONS, TYPES } from './resource-registry.ts';
import type { ResourceModel } from './resource-store.ts';
import { serviceStatuses } from './node-services.ts';
import type { SimNode } from './node.ts';

const b64 = (text: string) => Buffer.from(text).toString('base64');

/** etcd.FormatMemberID: the member id as 16 hex digits. */
export function formatMemberId(decimalId: string): string {
  return BigInt(decimalId).toString(16).padStart(16, '0');
}

function model(type: string, namespace: string, id: string, owner: string, spec: unknown, raw = false): ResourceModel {
  return { type, namespace, id, owner, spec, raw };
}

function machineStatus(node: SimNode): unknown {
  if (node.maintenance) return { stage: 'maintenance', status: { ready: false, unmetConditions: [] } };
  const unmet: { name: string; reason: string }[] = [];
  if (!node.timeSynced) unmet.push({ name: 'time', reason: 'time is not synced' });
  const clusterExists = node.world.nodesOf(node.group).some((n) => n.etcd.running);
  if (node.isControlPlane) {
    if (node.bootCompleted) return { stage: 'running', status: { ready: unmet.length === 0, unmetConditions: unmet } };
    // The boot sequence of a control plane does not finish until etcd runs: before bootstrap it stays in booting.
    unmet.push({ name: 'services', reason: 'etcd not running' });
    unmet.push({ name: 'staticPods', reason: 'kube-apiserver pending, kube-controller-manager pending, kube-scheduler pending' });
    unmet.push({ name: 'nodeReady', reason: `node "${node.name}" status is not available yet` });
    return { stage: 'booting', status: { ready: false, unmetConditions: unmet } };
  }
  if (!clusterExists) unmet.push({ name: 'nodeReady', reason: `node "${node.name}" status is not available yet` });
  return { stage: 'running', status: { ready: unmet.length === 0, unmetConditions: unmet } };
}

function members(node: SimNode): ResourceModel[] {
  if (node.maintenance || !node.world.discoveryEnabled(node.group)) return [];
  // Discovery (service registry) knows every node of the cluster that ever ran with its config, including
  // this one and nodes that went down since (affiliates expire only after 30 minutes).
  return node.world
    .nodesOf(node.group)
    .filter((n) => !n.maintenance && n.registered)
    .map((n) =>
      model(TYPES.member, 'cluster', n.name, 'cluster.MemberController', {
        nodeId: n.nodeId,
        addresses: n.addresses,
        hostname: n.name,
        machineType: n.type,
        operatingSystem: `Talos (${n.talosVersion})`,
        ...(n.type === 'worker' ? {} : { controlPlane: { port: 6443 } }),
      }),
    );
}

/** go-humanize's Bytes (SI units, as DiskSpec.SetSize renders pretty_size). */
function prettySize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let value = bytes;
  let i = 0;
  while (value >= 1000 && i < units.length - 1) {
    value /= 1000;
    i++;
  }
  const rounded = Math.floor(value * 10 + 0.5) / 10;
  return i === 0 ? `${bytes} B` : `${rounded < 10 ? rounded.toFixed(1) : rounded.toFixed(0)} ${units[i]}`;
}

function resourceDefinitions(): ResourceModel[] {
  return DEFINITIONS.map((d) =>
    model(TYPES.resourceDefinition, 'meta', d.type.toLowerCase(), '', {
      type: d.type,
      displayType: d.type.split('.')[0]?.replace(/(es|s)$/, '') ?? d.type,
      defaultNamespace: d.defaultNamespace,
      aliases: [],
      allAliases: aliasesOf(d.type),
      printColumns: [],
      ...(d.sensitive ? { sensitivity: 'sensitive' } : {}),
    }),
  );
}

export function nodeResources(node: SimNode): ResourceModel[] {
  const out: ResourceModel[] = [];
  out.push(model(TYPES.machineType, 'config', 'machine-type', 'config.MachineTypeController', node.machineTypeName));
  out.push(model(TYPES.machineStatus, 'runtime', 'machine', 'runtime.MachineStatusController', machineStatus(node)));
  out.push(
    model(TYPES.timeStatus, 'runtime', 'node', 'time.SyncController', { synced: node.timeSynced, epoch: node.timeSynced ? 1 : 0, syncDisabled: false }),
  );
  // A Services resource exists only while its service runs (v1alpha1.ServiceController destroys it otherwise).
  for (const s of serviceStatuses(node)) {
    if (s.state !== 'Running') continue;
    out.push(model(TYPES.service, 'runtime', s.id, 'v1alpha1.ServiceController', { running: true, healthy: s.healthy, unknown: s.unknown }));
  }
  for (const { id, ...spec } of node.disks) {
    // DiskSpec marshals every field without omitempty (size, readonly, cdrom, ...) even when zero.
    const full = { dev_path: `/dev/${id}`, pretty_size: prettySize(spec.size), io_size: 512, sector_size: 512, readonly: false, cdrom: false, ...spec };
    out.push(model(TYPES.disk, 'runtime', id, 'block.DisksController', full));
  }
  out.push(model(TYPES.hostnameStatus, 'network', 'hostname', 'network.HostnameStatusController', { hostname: node.name, domainname: '' }));
  out.push(model(TYPES.nodeAddress, 'network', 'current', 'network.NodeAddressController', { addresses: node.addresses.map((a) => `${a}/24`), sortAlgorithm: 'v1' }));
  out.push(model(TYPES.nodeAddress, 'network', 'default', 'network.NodeAddressController', { addresses: [`${node.defaultAddress}/24`], sortAlgorithm: 'v1' }));
  out.push(...resourceDefinitions());

  if (!node.maintenance) {
    if (node.etcd.running && node.etcd.memberId) {
      out.push(model(TYPES.etcdMember, 'etcd', 'local', 'etcd.MemberController', { memberID: formatMemberId(node.etcd.memberId) }));
    }
    out.push(...members(node));
    out.push(model(TYPES.identity, 'cluster', 'local', 'cluster.NodeIdentityController', { nodeId: node.nodeId }));
    out.push(
      model(TYPES.info, 'cluster', 'current', 'cluster.InfoController', { clusterId: node.identity.clusterId, clusterName: node.identity.clusterName }),
    );
    for (const id of ['v1alpha1', 'persistent']) out.push(model(TYPES.machineConfig, 'config', id, '', node.machineConfig, true));
    // secrets.RootOSController drops issuingCA when the config has no CA key (a worker's config); the
    // certificate still shows among acceptedCAs.
    const cp = node.isControlPlane;
    out.push(
      model(TYPES.osRoot, 'secrets', 'os', 'secrets.RootController', {
        issuingCA: cp ? { crt: b64(node.identity.osCa.certPem), key: b64(node.identity.osCa.talosKeyPem) } : null,
        acceptedCAs: [{ crt: b64(node.identity.osCa.certPem) }],
        certSANIPs: [...node.addresses, '127.0.0.1'],
        certSANDNSNames: [node.name],
        token: node.identity.machineToken,
      }),
    );
  }
  return out;
}
