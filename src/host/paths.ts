// Every host path the daemon reads, under TALOS_AUTO_BOOTSTRAP_HOST_ROOT (`/` on a node; a fixture tree
// in tests and the demo). Named once here so a newcomer sees the whole footprint on the host.
import { join } from 'node:path';

export interface HostPaths {
  root: string;
  etcdSecrets: string;
  /** The node's /proc, mounted into the service at /host/proc (the container has a private PID namespace). */
  hostProc: string;
  /** Fallback when /host/proc is not mounted. */
  proc: string;
  stateConfig: string;
  stateDevice: string;
  mapperDir: string;
  sysBlock: string;
  machinedSocket: string;
  privateRun: string;
}

export function hostPaths(root: string): HostPaths {
  const at = (...p: string[]) => join(root, ...p);
  return {
    root,
    etcdSecrets: at('system/secrets/etcd'),
    hostProc: at('host/proc'),
    proc: at('proc'),
    stateConfig: at('system/state/config.yaml'),
    stateDevice: at('dev/disk/by-partlabel/STATE'),
    mapperDir: at('dev/mapper'),
    sysBlock: at('sys/block'),
    machinedSocket: at('system/run/machined/machine.sock'),
    privateRun: at('run/autobootstrap'),
  };
}
