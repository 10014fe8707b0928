// Peers from Talos cluster discovery alone: control planes on two different /24s, no SCAN_CIDR, no PEERS,
// DISCOVERY=members. They find each other through the Members Watch on their own apid, verify each other
// like any peer, and exactly one Bootstrap happens. A member that appears later starts a round at once.
import { afterEach, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TalosSimulator, type NodeSpec } from '../sim/index.ts';
import { simIdentities } from './cluster-harness.ts';
import { DaemonProcess, FAST_ENV, type LogLine } from './daemon-process.ts';
import { assertNoSecrets } from './secret-scan.ts';

let sim: TalosSimulator | undefined;
let dir: string | undefined;
const daemons: DaemonProcess[] = [];

afterEach(async () => {
  const stopped = daemons.splice(0);
  for (const d of stopped) {
    d.kill('SIGKILL');
    await d.exited;
    await d.drained;
  }
  const identities = sim ? simIdentities(sim) : [];
  await sim?.stop();
  sim = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  assertNoSecrets(stopped.flatMap((d) => d.outputLines()), identities);
});

async function start(nodes: NodeSpec[]): Promise<TalosSimulator> {
  dir = mkdtempSync(join(tmpdir(), 'ab-members-'));
  sim = await TalosSimulator.start({ joinDelayMs: 300, nodes, hostRootDir: dir });
  return sim;
}

/** A daemon that can learn of peers only from Members: no prefix to scan, no static list. */
function membersOnly(s: TalosSimulator, name: string, quorum: number, env: Record<string, string> = {}): DaemonProcess {
  const d = new DaemonProcess(name, {
    ...FAST_ENV,
    TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: String(quorum),
    TALOS_AUTO_BOOTSTRAP_HOST_ROOT: s.hostRoot(name) as string,
    TALOS_AUTO_BOOTSTRAP_NODE_IP: s.node(name).ip,
    TALOS_AUTO_BOOTSTRAP_LOCAL_APID: s.node(name).ip,
    TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'members',
    ...env,
  });
  daemons.push(d);
  return d;
}

/** Proof that nothing was scanned: no scan prefix chosen, and no round ever probed a scan address. */
function expectNoScan(d: DaemonProcess): void {
  expect(d.events('scan-prefixes')).toEqual([]);
  const rounds = d.events('discovery') as (LogLine & { counts: { scan: { probed: number } } })[];
  expect(rounds.length).toBeGreaterThan(0);
  for (const r of rounds) expect(r.counts.scan.probed).toBe(0);
}

describe('members discovery across subnets', () => {
  test('three control planes on two /24s, members only: quorum, exactly one Bootstrap, one cluster', async () => {
    const s = await start([
      { name: 'cp1', ip: '127.0.110.11', type: 'controlplane', bootTime: 1_700_000_300 },
      { name: 'cp2', ip: '127.0.110.12', type: 'controlplane', bootTime: 1_700_000_200 },
      { name: 'cp3', ip: '127.0.111.13', type: 'controlplane', bootTime: 1_700_000_100 },
      { name: 'w1', ip: '127.0.111.14', type: 'worker' },
    ]);
    const ds = ['cp1', 'cp2', 'cp3'].map((n) => membersOnly(s, n, 3));
    const codes = await Promise.all(ds.map((d) => d.exitWithin(45_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(s.bootstrapCalls().map((b) => b.node)).toEqual(['cp3']);
    expect(s.successfulBootstraps()).toHaveLength(1);
    expect(s.etcdClusters()).toHaveLength(1);
    expect(s.etcdClusters()[0]?.members.map((m) => m.node).sort()).toEqual(['cp1', 'cp2', 'cp3']);
    for (const d of ds) expectNoScan(d);
    // Peers were found through members: the leader's round line counts them there.
    const leader = ds[2] as DaemonProcess;
    expect(leader.lines.some((l) => l.event === 'discovery' && /members 4 listed, 2 control-plane address\(es\) of peers probed: 2 verified control planes/.test(l.msg))).toBe(true);
    // Workers are members but never probed: no call from any daemon reached w1.
    expect(s.calls().filter((c) => c.node === 'w1')).toEqual([]);
  }, 60_000);

  test('a control plane appearing later starts a round at once: bootstrap with SCAN_INTERVAL far away', async () => {
    const s = await start([
      { name: 'cp1', ip: '127.0.110.21', type: 'controlplane', bootTime: 1_700_000_100 },
      { name: 'cp2', ip: '127.0.110.22', type: 'controlplane', bootTime: 1_700_000_200 },
      { name: 'cp3', ip: '127.0.111.23', type: 'controlplane', bootTime: 1_700_000_300, up: false },
    ]);
    // Without the doorbell the next round would be ten minutes away, far beyond this test's timeout.
    const env = { TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '10m' };
    const cp1 = membersOnly(s, 'cp1', 3, env);
    const cp2 = membersOnly(s, 'cp2', 3, env);
    for (const d of [cp1, cp2]) await d.waitFor((l) => l.msg.startsWith('quorum 2/3'), 15_000, 'quorum 2/3');
    await Bun.sleep(500);
    expect(s.bootstrapCalls()).toEqual([]);
    const waitingLines = cp1.lines.length;

    await s.up('cp3');
    const cp3 = membersOnly(s, 'cp3', 3, env);
    const codes = await Promise.all([cp1, cp2, cp3].map((d) => d.exitWithin(45_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(s.bootstrapCalls().map((b) => b.node)).toEqual(['cp1']);
    expect(s.etcdClusters()).toHaveLength(1);

    // The order on the leader: still waiting → the member appears → a round sees 3/3 → settle → Bootstrap.
    const after = cp1.lines.slice(waitingLines);
    const at = (pred: (l: LogLine) => boolean) => after.findIndex(pred);
    const news = at((l) => l.event === 'members-new' && JSON.stringify(l.addresses) === JSON.stringify(['127.0.111.23']));
    const quorum = at((l) => l.msg.startsWith('quorum 3/3 reached'));
    const settle = at((l) => l.event === 'settle');
    const call = at((l) => l.event === 'bootstrap-call');
    expect(news).toBeGreaterThanOrEqual(0);
    expect([news < quorum, quorum < settle, settle < call]).toEqual([true, true, true]);
    // The settle delay (1s here) is whole: the final check's probes may run in its last part, the call may not.
    const ms = (l: LogLine | undefined) => Date.parse(String(l?.time));
    expect(ms(after[call]) - ms(after[settle])).toBeGreaterThanOrEqual(1000);
    // Between the member's appearance and the call, no full scan interval passed: there was no other wait.
    expect(after.slice(news, call).filter((l) => l.event === 'decision' && l.reason === 'no-quorum')).toEqual([]);
    for (const d of [cp1, cp2, cp3]) expectNoScan(d);
  }, 60_000);
});
