// Talos's apply-time validation of a machine config, mirrored as pure functions over the parsed documents.
// Each finding carries the rule (id, Talos's reason, Talos source path) and what in this config broke it.
// What Talos checks that is not here (schema of every field, unknown keys, network devices, ...) is listed
// in docs/operator.md; test/oracle compares these findings with Talos's own validator.
import { splitDocuments, type ConfigDocument } from './documents.ts';
import { RULES, type MachineConfigRule } from './rules.ts';

export interface Finding {
  rule: MachineConfigRule;
  /** Where and what, without secret values. */
  detail: string;
}

/** The node's validation mode: a node in maintenance mode on bare metal requires an install (v1alpha1_server.go, modeWrapper). */
export interface ValidationMode {
  requiresInstall: boolean;
}

export const MAINTENANCE_METAL: ValidationMode = { requiresInstall: true };

type Map = Record<string, unknown>;
const isMap = (v: unknown): v is Map => typeof v === 'object' && v !== null && !Array.isArray(v);
const map = (v: unknown): Map | undefined => (isMap(v) ? v : undefined);
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v !== '';

// Documents that implement ControlplaneOnlyDocument() in pkg/machinery v1.14.1 (config/types/k8s).
export const CONTROL_PLANE_ONLY_KINDS = [
  'KubeAPIServerConfig',
  'KubeAdmissionControlConfig',
  'KubeAggregatorCAConfig',
  'KubeAuditPolicyConfig',
  'KubeAuthenticationConfig',
  'KubeAuthorizerConfig',
  'KubeControllerManagerConfig',
  'KubeCoreDNSConfig',
  'KubeEtcdEncryptionConfig',
  'KubeFlannelCNIConfig',
  'KubeProxyConfig',
  'KubeSchedulerConfig',
  'KubeServiceAccountConfig',
  'KubeTalosAPIAccessConfig',
];

// The v1alpha1 document's top-level keys (pkg/machinery/config/types/v1alpha1/v1alpha1_types.go, Config).
const V1ALPHA1_KEYS = new Set(['version', 'debug', 'persist', 'machine', 'cluster']);

/** machine.ParseType (pkg/machinery/config/machine/machine.go): "", "join" and "worker" are workers. */
function machineType(value: unknown): 'controlplane' | 'worker' | 'unknown' {
  if (value === 'init' || value === 'controlplane') return 'controlplane';
  if (value === undefined || value === null || value === '' || value === 'join' || value === 'worker') return 'worker';
  return 'unknown';
}

/** v1alpha1 Config.Validate and ClusterConfig.Validate (pkg/machinery/config/types/v1alpha1/v1alpha1_validation.go). */
function checkV1alpha1(doc: ConfigDocument, mode: ValidationMode, unattended: boolean, out: Finding[]): void {
  const add = (rule: MachineConfigRule, detail: string): void => {
    out.push({ rule, detail });
  };
  const machine = map(doc.body.machine);
  if (!machine) {
    add(RULES.machineRequired, 'the v1alpha1 document has no machine section');
    return;
  }
  const type = machineType(machine.type);
  const cp = type === 'controlplane';
  const cluster = map(doc.body.cluster);
  if (!cluster) add(RULES.clusterRequired, 'the v1alpha1 document has no cluster section');
  else {
    const etcd = map(cluster.etcd);
    if (cluster.etcd !== undefined && cluster.etcd !== null) {
      if (!cp) add(RULES.workerEtcd, `machine.type is ${String(machine.type ?? '(unset: worker)')} but cluster.etcd is set`);
      else if (!map(etcd?.ca)) add(RULES.etcdCaEmpty, 'cluster.etcd is set without cluster.etcd.ca');
    }
    if (!cp && nonEmpty(map(cluster.ca)?.key)) add(RULES.workerClusterCaKey, 'a worker config carries cluster.ca.key');
  }
  const install = map(machine.install);
  if (mode.requiresInstall && install && !nonEmpty(install.disk) && (install.diskSelector === undefined || install.diskSelector === null)) {
    add(RULES.installDisk, 'machine.install has neither disk nor diskSelector');
  }
  if (mode.requiresInstall && !install && !unattended) {
    add(RULES.installRequired, 'neither machine.install nor an UnattendedInstallConfig document: Talos v1.13 and older refuse it, v1.14 applies it and installs nothing');
  }
  const ca = map(machine.ca);
  const accepted = Array.isArray(machine.acceptedCAs) ? machine.acceptedCAs : [];
  if (!ca && accepted.length === 0) add(RULES.caRequired, 'no machine.ca and no machine.acceptedCAs');
  if (type === 'unknown') {
    add(RULES.unknownMachineType, `machine.type is ${JSON.stringify(machine.type)}; expected controlplane, init, worker (or join)`);
  } else if (cp) {
    if (!ca) add(RULES.controlPlaneCa, 'a control-plane config without machine.ca');
    else if (!nonEmpty(ca.key)) add(RULES.controlPlaneCaKey, 'a control-plane config without machine.ca.key');
  } else {
    const devices = Array.isArray(map(machine.network)?.interfaces) ? (map(machine.network)?.interfaces as unknown[]) : [];
    for (const d of devices.map(map)) {
      if (d && map(d.vip)) add(RULES.workerVip, `worker interface ${typeof d.interface === 'string' ? d.interface : '(by deviceSelector)'} has a vip`);
      for (const vlan of Array.isArray(d?.vlans) ? (d.vlans as unknown[]).map(map) : []) {
        if (vlan && map(vlan.vip)) add(RULES.workerVip, `a vlan on worker interface ${typeof d?.interface === 'string' ? d.interface : '(by deviceSelector)'} has a vip`);
      }
    }
    if (ca) {
      if (nonEmpty(ca.key)) add(RULES.workerCaKey, 'a worker config carries machine.ca.key');
      if (!nonEmpty(ca.crt) && accepted.length === 0) add(RULES.workerTrustedCa, 'a worker config without machine.ca.crt or machine.acceptedCAs');
    }
    if (nonEmpty(map(cluster?.ca)?.key)) add(RULES.workerKubernetesCaKey, 'a worker config carries cluster.ca.key');
  }
  if (doc.body.persist === false) add(RULES.persist, 'persist is false');
}

/** ExtensionServiceConfig.Validate (pkg/machinery/config/types/runtime/extensions/service_config.go): the first failure only, as Talos returns. */
function checkExtensionService(doc: ConfigDocument, out: Finding[]): void {
  const add = (rule: MachineConfigRule, detail: string): void => {
    out.push({ rule, detail });
  };
  const files = Array.isArray(doc.body.configFiles) ? (doc.body.configFiles as unknown[]) : [];
  const env = Array.isArray(doc.body.environment) ? doc.body.environment : [];
  if (doc.name === '') return add(RULES.extensionName, `ExtensionServiceConfig at line ${doc.line} has no name`);
  if (files.length === 0 && env.length === 0) return add(RULES.extensionEmpty, `ExtensionServiceConfig ${doc.name} has neither environment nor configFiles`);
  for (const f of files.map(map)) {
    if (!nonEmpty(f?.content)) return add(RULES.extensionFileContent, `ExtensionServiceConfig ${doc.name}: a config file without content`);
    if (!nonEmpty(f?.mountPath)) return add(RULES.extensionFileMountPath, `ExtensionServiceConfig ${doc.name}: a config file without mountPath`);
  }
}

/**
 * Checks one machine config as Talos does when it is applied to a node in `mode`.
 * Returns every finding (Talos reports all of them at once); an empty list means Talos's mirrored rules and
 * autobootstrap's own pass. A config that does not load yields only the loader's finding, as Talos stops there.
 * Pure: no I/O; the text is never quoted in a finding.
 */
export function checkMachineConfig(text: string, mode: ValidationMode = MAINTENANCE_METAL): Finding[] {
  const split = splitDocuments(text);
  if (!split.ok) {
    return split.problem === 'not-yaml'
      ? [{ rule: RULES.notYaml, detail: `not valid YAML (${split.detail}${split.line ? ` at line ${split.line}` : ''})` }]
      : [{ rule: RULES.notMapping, detail: `the document at line ${split.line} is ${split.detail}, not a mapping` }];
  }
  // The loader: every document needs a kind and apiVersion; no two with the same apiVersion/kind/name.
  const seen = new Set<string>();
  for (const doc of split.documents) {
    if (seen.has(doc.id)) {
      return [{ rule: RULES.duplicateDocument, detail: `a second ${doc.kind || 'document'}${doc.name ? ` named ${doc.name}` : ''} at line ${doc.line}; Talos allows one` }];
    }
    seen.add(doc.id);
    if (doc.kind === '') return [{ rule: RULES.missingKind, detail: `the document at line ${doc.line} has no kind` }];
    if (doc.version === '') return [{ rule: RULES.missingApiVersion, detail: `the ${doc.kind} document at line ${doc.line} has no apiVersion` }];
    if (doc.kind === 'v1alpha1') {
      const unknown = Object.keys(doc.body).filter((k) => !V1ALPHA1_KEYS.has(k));
      if (unknown.length > 0) {
        return [{ rule: RULES.unknownKeys, detail: `the v1alpha1 document at line ${doc.line} has keys it does not know: ${unknown.join(', ')}` }];
      }
    }
  }

  const out: Finding[] = [];
  const v1alpha1 = split.documents.find((d) => d.kind === 'v1alpha1');
  if (v1alpha1) checkV1alpha1(v1alpha1, mode, split.documents.some((d) => d.kind === 'UnattendedInstallConfig'), out);
  for (const doc of split.documents) if (doc.kind === 'ExtensionServiceConfig') checkExtensionService(doc, out);

  // Container-level checks (pkg/machinery/config/container/validate.go, validateContainer).
  const machineSection = map(v1alpha1?.body.machine);
  const cp = machineSection !== undefined && machineType(machineSection.type) === 'controlplane';
  if (split.documents.some((d) => d.kind === 'DiscoveryServiceConfig')) {
    const cluster = map(v1alpha1?.body.cluster);
    const legacy = nonEmpty(cluster?.id) || nonEmpty(cluster?.secret);
    const identityDoc = split.documents.find((d) => d.kind === 'DiscoveryIdentityConfig');
    const id = legacy ? cluster?.id : identityDoc?.body.clusterID;
    const secret = legacy ? cluster?.secret : identityDoc?.body.clusterSecret;
    if (!nonEmpty(id)) out.push({ rule: RULES.discoveryClusterId, detail: 'DiscoveryServiceConfig without a cluster ID' });
    if (!nonEmpty(secret)) out.push({ rule: RULES.discoveryClusterSecret, detail: 'DiscoveryServiceConfig without a cluster secret' });
  }
  const cpOnly = [...new Set(split.documents.filter((d) => CONTROL_PLANE_ONLY_KINDS.includes(d.kind)).map((d) => d.kind))].sort();
  if (cpOnly.length > 0 && !cp) out.push({ rule: RULES.controlPlaneOnlyDocuments, detail: `a worker config carries ${cpOnly.join(', ')}` });

  // autobootstrap's own: a control plane must be able to run etcd.
  if (cp && !nonEmpty(map(map(map(v1alpha1?.body.cluster)?.etcd)?.ca)?.crt)) {
    out.push({ rule: RULES.controlPlaneEtcdCa, detail: 'a control-plane config without cluster.etcd.ca: Talos applies it, but Bootstrap is refused' });
  }
  return out;
}
