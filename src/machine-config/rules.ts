// The machine-config rules preflight checks before anything is applied: each is a rule Talos applies when a
// node receives a config (ApplyConfiguration in internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go:
// configloader.NewFromBytes, then Container.ValidateAtRuntime in the node's platform mode), with Talos's
// own reason text and the source file it is read from (pkg/machinery v1.14.1). `autobootstrap` rules are the
// project's own: Talos accepts such a config, but autobootstrap cannot form a cluster from it.

/**
 * `talos`: Talos v1.14 refuses the config when it is applied. `talos-before-v1.14`: Talos v1.7 to v1.13
 * refuse it (the rule was dropped in v1.14). `autobootstrap`: Talos applies it, autobootstrap cannot use it.
 */
export type RuleScope = 'talos' | 'talos-before-v1.14' | 'autobootstrap';

export interface MachineConfigRule {
  /** Stable id, used in preflight's output and the docs. */
  id: string;
  scope: RuleScope;
  /**
   * Talos's error text, with Go's format verbs (%s, %q, %d, %v) where Talos fills in values; for
   * `autobootstrap` rules, the Talos message the operator would meet later.
   */
  reason: string;
  /** The Talos source file the rule mirrors (pkg/machinery unless the path says otherwise). */
  source: string;
}

const MACHINERY = 'pkg/machinery/config';
const LOADER = `${MACHINERY}/configloader/internal/decoder/decoder.go`;
const V1ALPHA1 = `${MACHINERY}/types/v1alpha1/v1alpha1_validation.go`;
const CONTAINER = `${MACHINERY}/container/validate.go`;

export const RULES = {
  notYaml: { id: 'config-not-yaml', scope: 'talos', reason: 'decode error: %v', source: LOADER },
  notMapping: { id: 'document-not-mapping', scope: 'talos', reason: 'expected a YAML document at line %d', source: LOADER },
  missingKind: { id: 'document-missing-kind', scope: 'talos', reason: 'missing kind', source: LOADER },
  missingApiVersion: { id: 'document-missing-apiversion', scope: 'talos', reason: 'missing apiVersion', source: LOADER },
  duplicateDocument: { id: 'duplicate-document', scope: 'talos', reason: 'duplicate document %s/%s/%s is not allowed (line %d)', source: LOADER },
  machineRequired: { id: 'machine-required', scope: 'talos', reason: 'machine instructions are required', source: V1ALPHA1 },
  clusterRequired: { id: 'cluster-required', scope: 'talos', reason: 'cluster instructions are required', source: V1ALPHA1 },
  unknownMachineType: { id: 'machine-type-unknown', scope: 'talos', reason: 'unknown machine type %q', source: V1ALPHA1 },
  caRequired: {
    id: 'ca-required',
    scope: 'talos',
    reason: 'issuing CA or some accepted CAs are required (.machine.ca, machine.acceptedCAs)',
    source: V1ALPHA1,
  },
  controlPlaneCa: { id: 'controlplane-ca', scope: 'talos', reason: 'issuing CA is required (.machine.ca)', source: V1ALPHA1 },
  controlPlaneCaKey: {
    id: 'controlplane-ca-key',
    scope: 'talos',
    reason: 'issuing CA key is required for controlplane nodes (.machine.ca.key)',
    source: V1ALPHA1,
  },
  workerCaKey: {
    id: 'worker-ca-key',
    scope: 'talos',
    reason: 'issuing Talos API CA key is not allowed on non-controlplane nodes (.machine.ca)',
    source: V1ALPHA1,
  },
  workerTrustedCa: {
    id: 'worker-trusted-ca',
    scope: 'talos',
    reason: 'trusted CA certificates are required on non-controlplane nodes (.machine.ca.crt, .machine.acceptedCAs)',
    source: V1ALPHA1,
  },
  workerKubernetesCaKey: {
    id: 'worker-kubernetes-ca-key',
    scope: 'talos',
    reason: 'issuing Kubernetes API CA key is not allowed on non-controlplane nodes (.cluster.ca)',
    source: V1ALPHA1,
  },
  workerClusterCaKey: {
    id: 'worker-cluster-ca-key',
    scope: 'talos',
    reason: 'cluster CA key is not allowed on non-controlplane nodes (.cluster.ca)',
    source: V1ALPHA1,
  },
  workerEtcd: { id: 'worker-etcd', scope: 'talos', reason: 'etcd config is only allowed on control plane machines', source: V1ALPHA1 },
  workerVip: { id: 'worker-vip', scope: 'talos', reason: 'virtual (shared) IP is not allowed on non-controlplane nodes', source: V1ALPHA1 },
  etcdCaEmpty: { id: 'etcd-ca-empty', scope: 'talos', reason: 'key/cert combination should not be empty', source: V1ALPHA1 },
  installDisk: { id: 'install-disk', scope: 'talos', reason: 'either install disk or diskSelector should be defined', source: V1ALPHA1 },
  unknownKeys: { id: 'unknown-keys', scope: 'talos', reason: 'unknown keys found during decoding', source: LOADER },
  // .machine.install became optional in v1.14 (UnattendedInstallConfig replaces it); v1.13 and older refuse a
  // metal config without it (pkg/machinery v1.13 config/types/v1alpha1/v1alpha1_validation.go).
  installRequired: {
    id: 'install-required',
    scope: 'talos-before-v1.14',
    reason: 'install instructions are required in %q mode',
    source: V1ALPHA1,
  },
  persist: { id: 'persist', scope: 'talos', reason: '.persist should be enabled', source: V1ALPHA1 },
  controlPlaneOnlyDocuments: {
    id: 'controlplane-only-documents',
    scope: 'talos',
    reason: 'the following document kinds are only allowed on control plane machines: %v',
    source: CONTAINER,
  },
  discoveryClusterId: {
    id: 'discovery-cluster-id',
    scope: 'talos',
    reason: 'cluster ID (.cluster.id or DiscoveryIdentityConfig) should be set when cluster discovery (DiscoveryServiceConfig) is enabled',
    source: CONTAINER,
  },
  discoveryClusterSecret: {
    id: 'discovery-cluster-secret',
    scope: 'talos',
    reason: 'cluster secret (.cluster.secret or DiscoveryIdentityConfig) should be set when cluster discovery (DiscoveryServiceConfig) is enabled',
    source: CONTAINER,
  },
  extensionName: { id: 'extension-service-name', scope: 'talos', reason: 'name is required', source: `${MACHINERY}/types/runtime/extensions/service_config.go` },
  extensionEmpty: {
    id: 'extension-service-empty',
    scope: 'talos',
    reason: 'no config files found for extension %q',
    source: `${MACHINERY}/types/runtime/extensions/service_config.go`,
  },
  extensionFileContent: {
    id: 'extension-service-file-content',
    scope: 'talos',
    reason: 'extension content is required for extension %q',
    source: `${MACHINERY}/types/runtime/extensions/service_config.go`,
  },
  extensionFileMountPath: {
    id: 'extension-service-file-mount-path',
    scope: 'talos',
    reason: 'extension mount path is required for extension %q',
    source: `${MACHINERY}/types/runtime/extensions/service_config.go`,
  },
  // Talos accepts a control plane without cluster.etcd (it is validated only when present), but Bootstrap
  // then refuses with InvalidArgument (internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go,
  // Bootstrap), so autobootstrap could never form the cluster on that node.
  controlPlaneEtcdCa: {
    id: 'controlplane-etcd-ca',
    scope: 'autobootstrap',
    reason: 'etcd is not configured, bootstrap is not possible',
    source: 'internal/app/machined/internal/server/v1alpha1/v1alpha1_server.go',
  },
} as const satisfies Record<string, MachineConfigRule>;

export type RuleKey = keyof typeof RULES;

/** Every rule, in the order the docs list them. */
export const ALL_RULES: MachineConfigRule[] = Object.values(RULES);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Whether an error text from Talos carries this rule's reason (format verbs match any value). */
export function reasonMatches(rule: MachineConfigRule, talosError: string): boolean {
  const pattern = rule.reason.split(/%[sqdv]/).map(escape).join('[\\s\\S]*?');
  return new RegExp(pattern).test(talosError);
}
