// A simulated cluster whose nodes boot in maintenance mode, the operator's files for it (one machine
// config per node, a talosconfig with an os:admin certificate), and a way to run the compiled binary's
// operator commands against it. After apply, each control plane runs the real daemon, as Talos would
// start ext-autobootstrap once the node has its config.
import { spawn } from 'bun';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { TalosSimulator, type NodeSpec, type SimulatorOptions } from '../sim/index.ts';
import { simIdentities } from './cluster-harness.ts';
import { BINARY, DaemonProcess, loopbackDaemonEnv } from './daemon-process.ts';
import { assertNoSecrets, linesOf, type OutputLine } from './secret-scan.ts';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface OperatorCluster {
  sim: TalosSimulator;
  dir: string;
  nodes: NodeSpec[];
  talosconfig: string;
  configPath(name: string): string;
  /** --nodes a,b style arguments are built by the tests; this runs the binary with a talosconfig at hand. */
  run(args: string[], stdin?: string): Promise<RunResult>;
  /** Starts the real daemon on the control planes (all, or those named); their lines feed the node's service log. */
  startDaemons(names?: string[]): DaemonProcess[];
  daemons: DaemonProcess[];
  /** Every line each operator command printed, for the secret scan at close. */
  outputs: OutputLine[];
  close(): Promise<void>;
}

/** 3 control planes (.1-.3) and 3 workers (.11-.13) of `subnet`, all in maintenance unless told otherwise. */
export function sixNodes(subnet: string, overrides: Partial<Record<string, Partial<NodeSpec>>> = {}): NodeSpec[] {
  const names: [string, number, NodeSpec['type']][] = [
    ['cp1', 1, 'controlplane'],
    ['cp2', 2, 'controlplane'],
    ['cp3', 3, 'controlplane'],
    ['w1', 11, 'worker'],
    ['w2', 12, 'worker'],
    ['w3', 13, 'worker'],
  ];
  return names.map(([name, host, type]) => ({ name, ip: `${subnet}.${host}`, type, maintenance: true, ...overrides[name] }));
}

export async function startOperatorCluster(subnet: string, nodes: NodeSpec[], sim: Partial<SimulatorOptions> = {}): Promise<OperatorCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'ab-operator-'));
  const simulator = await TalosSimulator.start({ nodes, hostRootDir: join(dir, 'nodes'), joinDelayMs: 300, applyRebootMs: 200, ...sim });
  mkdirSync(join(dir, 'clusterconfig'), { recursive: true });
  // The configs an operator would have generated: what each node holds (Talos's generator's, see test/sim/README.md).
  for (const n of nodes) writeFileSync(join(dir, 'clusterconfig', `${n.name}.yaml`), simulator.node(n.name).machineConfig);
  const admin = simulator.clientCertificate({ roles: ['os:admin'], cn: 'operator' });
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const talosconfig = join(dir, 'clusterconfig', 'talosconfig');
  writeFileSync(
    talosconfig,
    stringify({
      context: 'sim',
      contexts: { sim: { endpoints: nodes.filter((n) => n.type !== 'worker').map((n) => n.ip), nodes: nodes.map((n) => n.ip), ca: b64(simulator.osCaPem()), crt: b64(admin.certPem), key: b64(admin.keyPem) } },
    }),
  );
  const cpCount = nodes.filter((n) => n.type !== 'worker').length;
  const cluster: OperatorCluster = {
    sim: simulator,
    dir,
    nodes,
    talosconfig,
    daemons: [],
    outputs: [],
    configPath: (name) => join(dir, 'clusterconfig', `${name}.yaml`),
    async run(args, stdin) {
      const proc = spawn([BINARY, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, TALOSCONFIG: talosconfig },
        stdin: stdin === undefined ? 'ignore' : new Blob([stdin]),
        stdout: 'pipe',
        stderr: 'pipe',
      });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).arrayBuffer(), new Response(proc.stderr).arrayBuffer(), proc.exited]);
      const [stdout, stderr] = [Buffer.from(out).toString('utf8'), Buffer.from(err).toString('utf8')];
      if (process.env.E2E_VERBOSE) console.log(`$ autobootstrap ${args.join(' ')}\n${stderr}${stdout}`);
      const command = `autobootstrap ${args[0] ?? ''}`;
      cluster.outputs.push(...linesOf(`${command} stdout`, stdout), ...linesOf(`${command} stderr`, stderr));
      cluster.outputs.push(...linesOf(`${command} output bytes`, [Buffer.from(out).toString('latin1') + Buffer.from(err).toString('latin1')]));
      return { code, stdout, stderr };
    },
    startDaemons(names) {
      const started = nodes
        .filter((n) => n.type !== 'worker' && (names === undefined || names.includes(n.name)))
        .map(
          (n) =>
            new DaemonProcess(
              n.name,
              loopbackDaemonEnv({
                quorum: cpCount,
                hostRoot: simulator.hostRoot(n.name) as string,
                nodeIp: n.ip,
                subnet,
                peers: nodes.filter((x) => x.type !== 'worker').map((x) => x.ip),
              }),
            ),
        );
      // machined keeps each service's output: `talosctl logs ext-autobootstrap` (and verify) read it there.
      for (const d of started) d.onLine((l) => simulator.node(d.name).appendLog('ext-autobootstrap', JSON.stringify(l)));
      cluster.daemons.push(...started);
      return started;
    },
    async close() {
      for (const d of cluster.daemons) d.kill('SIGKILL');
      await Promise.all(cluster.daemons.map((d) => d.exited));
      await Promise.all(cluster.daemons.map((d) => d.drained));
      const identities = simIdentities(simulator);
      await simulator.stop();
      rmSync(dir, { recursive: true, force: true });
      // No secret in anything an operator command or a daemon printed.
      assertNoSecrets([...cluster.outputs, ...cluster.daemons.flatMap((d) => d.outputLines())], identities);
    },
  };
  return cluster;
}

/** Fast retry flags: the schedule is asserted from the report, never timed. */
export const FAST_RETRY = ['--retry-delay', '100ms', '--retry-factor', '2', '--retry-max-delay', '1s'];
