// Is this node a control plane? Talos writes the etcd PKI under /system/secrets/etcd only on control
// planes, early in boot; the machine config's type is the second opinion while that is not there yet.
import { existsSync } from 'node:fs';
import type { HostPaths } from './paths.ts';

export type RoleEvidence =
  | { role: 'controlplane'; why: string }
  | { role: 'worker'; why: string }
  /** The config says control plane but the etcd secrets are not written yet: wait for them. */
  | { role: 'pending'; why: string };

export function etcdSecretsPresent(paths: HostPaths): boolean {
  return existsSync(paths.etcdSecrets);
}

export function detectRole(paths: HostPaths, configType: string | undefined): RoleEvidence {
  if (etcdSecretsPresent(paths)) return { role: 'controlplane', why: `${paths.etcdSecrets} exists` };
  if (configType === 'controlplane' || configType === 'init') {
    return { role: 'pending', why: `machine config says ${configType} but ${paths.etcdSecrets} is not there yet` };
  }
  if (configType === 'worker') return { role: 'worker', why: 'machine config says worker and there are no etcd secrets' };
  return { role: 'worker', why: `${paths.etcdSecrets} does not exist and no machine config names this node a control plane` };
}
