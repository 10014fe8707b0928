// Starts a simulated Talos cluster and runs one compiled daemon per node against it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { clientCommonName } from '../../src/pki/client-identities.ts';
import { TalosSimulator, type NodeSpec, type SimulatorOptions } from '../sim/index.ts';
import type { ClusterIdentity } from '../sim/cluster-identity.ts';
import { DaemonProcess, loopbackDaemonEnv } from './daemon-process.ts';
import { assertNoSecrets } from './secret-scan.ts';

/** The identity of every cluster group the simulator holds nodes of. */
export function simIdentities(sim: TalosSimulator): ClusterIdentity[] {
  return [...new Set(sim.nodes().map((n) => n.group))].map((g) => sim.identity(g));
}

export interface Harness {
  sim: TalosSimulator;
  subnet: string;
  daemons: DaemonProcess[];
  /** Starts the daemon for a node, with the node's host root, address and the subnet as scan prefix. */
  daemon(name: string, env?: Record<string, string>): DaemonProcess;
  ip(name: string): string;
  cn(name: string): string;
  /**
   * Reboots the node as Talos does (sim.reboot: new boot time, services reset, an accepted Bootstrap not yet
   * started lost) and restarts its daemon with the environment it had: the old process is killed first.
   */
  reboot(name: string, downMs?: number): Promise<DaemonProcess>;
  close(): Promise<void>;
}

export interface ClusterSpec {
  /** First three octets of a loopback /24 no other test file uses, e.g. "127.0.71". */
  subnet: string;
  nodes: (Omit<NodeSpec, 'ip'> & { host: number })[];
  quorum: number;
  sim?: Partial<SimulatorOptions>;
}

export async function startCluster(spec: ClusterSpec): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'ab-e2e-'));
  const nodes: NodeSpec[] = spec.nodes.map(({ host, ...n }) => ({ ...n, ip: `${spec.subnet}.${host}` }));
  const sim = await TalosSimulator.start({ joinDelayMs: 300, nodes, hostRootDir: dir, ...spec.sim });
  const ipOf = (name: string): string => {
    const n = nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n.ip;
  };
  const envOf = new Map<DaemonProcess, Record<string, string>>();
  const harness: Harness = {
    sim,
    subnet: spec.subnet,
    daemons: [],
    ip: ipOf,
    cn: (name) => clientCommonName(ipOf(name)),
    daemon(name, env = {}) {
      const d = new DaemonProcess(name, {
        ...loopbackDaemonEnv({ quorum: spec.quorum, hostRoot: sim.hostRoot(name) as string, nodeIp: ipOf(name), subnet: spec.subnet }),
        ...env,
      });
      envOf.set(d, env);
      harness.daemons.push(d);
      return d;
    },
    async reboot(name, downMs = 200) {
      const old = harness.daemons.filter((d) => d.name === name);
      for (const d of old) d.kill('SIGKILL');
      await Promise.all(old.map((d) => d.exited));
      await sim.reboot(name, downMs);
      return harness.daemon(name, envOf.get(old[old.length - 1] as DaemonProcess) ?? {});
    },
    async close() {
      for (const d of harness.daemons) d.kill('SIGKILL');
      await Promise.all(harness.daemons.map((d) => d.exited));
      await Promise.all(harness.daemons.map((d) => d.drained));
      const identities = simIdentities(sim);
      await sim.stop();
      rmSync(dir, { recursive: true, force: true });
      // No secret in anything any daemon printed (throws, failing the test, naming source and line).
      assertNoSecrets(harness.daemons.flatMap((d) => d.outputLines()), identities);
    },
  };
  return harness;
}

/** Three control planes; boot times chosen per test. */
export function threeControlPlanes(bootTimes: [number, number, number]): ClusterSpec['nodes'] {
  return bootTimes.map((bootTime, i) => ({ name: `cp${i + 1}`, host: i + 1, type: 'controlplane' as const, bootTime }));
}
