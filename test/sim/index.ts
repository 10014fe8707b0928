// The Talos API simulator: N Talos nodes on loopback addresses, each an apid with Talos's TLS, RBAC and
// Bootstrap semantics, sharing an etcd world where split brain is possible exactly as on real Talos.
export { TalosSimulator, type NodeFlags } from './simulator.ts';
export { SimNode, type Settings, type World, type ServiceOverride } from './node.ts';
export { SimClient, expectError, yamlSpecOf, type ClientIdentity, type Target } from './client.ts';
export { formatEvent, Recorder } from './records.ts';
export { renderMachineConfig, v1alpha1Document, type MachineConfigInput } from './machine-config.ts';
export { renderProcStat, renderRouteTable, routeHex, writeHostRoot } from './host-root.ts';
export {
  createCa,
  createOsCa,
  issue,
  issueApidCertificate,
  issueClientCertificate,
  loadTalosKey,
  talosKeyPem,
  type CertificateAuthority,
  type ClientCertificateOptions,
  type IssuedCertificate,
} from './pki.ts';
export { fullMethodName } from './faults.ts';
export { TYPES } from './resource-registry.ts';
export type * from './types.ts';
export { MachinedSocketServer, type SocketCallRecord } from './machined-socket.ts';
