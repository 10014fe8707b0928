// Is this node a control plane? Talos writes the etcd PKI under /system/secrets/etcd only on control
// planes, early in boot; the machine config's type is the second opinion while that is not there yet.
// The evidence is the etcd CA certificate, never the directory: the extension's service spec bind-mounts
// that directory, so it exists inside the container on every node (Talos even creates a missing mount
// source on the host, as an empty directory), workers included.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HostPaths } from './paths.ts';

export type RoleEvidence =
  | { role: 'controlplane'; why: string }
  | { role: 'worker'; why: string }
  /** The config says control plane but the etcd secrets are not written yet: wait for them. */
  | { role: 'pending'; why: string };

/** The file Talos writes first into the etcd PKI directory (constants.EtcdCACert). */
export const ETCD_CA_FILE = 'ca.crt';

export function etcdSecretsPresent(paths: HostPaths): boolean {
  return existsSync(join(paths.etcdSecrets, ETCD_CA_FILE));
}

export function detectRole(paths: HostPaths, configType: string | undefined): RoleEvidence {
  if (etcdSecretsPresent(paths)) return { role: 'controlplane', why: `${join(paths.etcdSecrets, ETCD_CA_FILE)} exists` };
  if (configType === 'controlplane' || configType === 'init') {
    return { role: 'pending', why: `machine config says ${configType} but ${paths.etcdSecrets} is not there yet` };
  }
  if (configType === 'worker') return { role: 'worker', why: 'machine config says worker and there are no etcd secrets' };
  return { role: 'worker', why: `no etcd PKI in ${paths.etcdSecrets} and no machine config names this node a control plane` };
}
