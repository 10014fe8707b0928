// Where a node's etcd client ends up, as machined's EtcdMemberList and EtcdStatus do it.
//
// query_local=false dials etcd (port 2379) on every "control-plane endpoint" (etcd.GetEndpoints): the
// merged k8s Endpoint resources, i.e. discovered control-plane members (when cluster discovery is on),
// the resolved cluster.controlPlane.endpoint, and the kube-apiserver endpoints (which exist only once
// Kubernetes runs, after bootstrap). None at all gives "no controlplane endpoints discovered yet".
// Otherwise clientv3 waits for a ready endpoint whose etcd has a leader: if there is none, the call
// only ends with the caller's deadline.
import type { SimNode } from './node.ts';
import type { EtcdClusterRecord } from './types.ts';

export type EtcdTarget =
  | { kind: 'cluster'; cluster: EtcdClusterRecord; via: SimNode }
  | { kind: 'no-endpoints' }
  /** Nothing answers: the call waits until its deadline. */
  | { kind: 'unreachable' };

/** The cluster a node's etcd serves, if it runs and its cluster has a leader. */
function servingCluster(node: SimNode): EtcdClusterRecord | undefined {
  if (!node.isUp || !node.etcd.running || !node.etcd.clusterId) return undefined;
  const cluster = node.world.etcdCluster(node.etcd.clusterId);
  return cluster && node.world.hasLeader(cluster) ? cluster : undefined;
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}

export function controlPlaneEndpoints(node: SimNode): SimNode[] {
  const peers = node.world.nodesOf(node.group).filter((n) => n.isControlPlane);
  const endpoints = new Set<SimNode>();
  if (node.world.discoveryEnabled(node.group)) {
    for (const n of peers) if (n.registered) endpoints.add(n);
  }
  // kube-apiserver endpoints: control planes whose etcd (and so kube-apiserver) runs.
  for (const n of peers) if (n.isUp && n.etcd.running) endpoints.add(n);
  // cluster.controlPlane.endpoint is a name that does not resolve in the simulator, so it adds nothing.
  return [...endpoints];
}

export function etcdTarget(node: SimNode, queryLocal: boolean): EtcdTarget {
  if (queryLocal) {
    const cluster = servingCluster(node);
    return cluster ? { kind: 'cluster', cluster, via: node } : { kind: 'unreachable' };
  }
  const endpoints = controlPlaneEndpoints(node);
  if (endpoints.length === 0) return { kind: 'no-endpoints' };
  // Talos shuffles the endpoints; with two clusters (split brain) the answer depends on the draw.
  for (const candidate of shuffle(endpoints, () => node.world.random())) {
    const cluster = servingCluster(candidate);
    if (cluster) return { kind: 'cluster', cluster, via: candidate };
  }
  return { kind: 'unreachable' };
}
