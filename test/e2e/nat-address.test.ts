// A node of this cluster reached through an address its apid certificate does not name: cp3 is listed
// in every daemon's static peers as a forwarded address (a NAT / port-forward address, here a plain TCP
// forwarder written below), not as its own. The certificate chains to this cluster's OS CA but does not
// name the address dialled, so the daemons never count what answers there: anyone on that path could
// otherwise answer for a node. Binds 127.0.229.0/24: run inside a private network namespace.
import { afterEach, describe, expect, test } from 'bun:test';
import { spawn } from 'bun';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startCluster, type Harness } from './cluster-harness.ts';
import { BINARY } from './daemon-process.ts';

const SUBNET = '127.0.229';
const FORWARDED = `${SUBNET}.30`;
const APID_PORT = 50000;

/** A plain TCP forwarder: every connection to listenHost:port is piped to targetHost:port, bytes untouched. */
async function startForwarder(listenHost: string, targetHost: string, port: number): Promise<{ connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    count++;
    const outbound = net.connect({ host: targetHost, port });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listenHost, () => resolve());
  });
  return {
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

let h: Harness | undefined;
let forwarder: Awaited<ReturnType<typeof startForwarder>> | undefined;
let dir: string | undefined;
afterEach(async () => {
  await forwarder?.close();
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  h = undefined;
  forwarder = undefined;
  dir = undefined;
});

describe('a node of this cluster reached through an address its certificate does not name (NAT / port forward)', () => {
  test('never counted, logged once per daemon with the SANs; exactly one Bootstrap, one cluster, all exit 0', async () => {
    h = await startCluster({
      subnet: SUBNET,
      quorum: 3,
      nodes: [
        { name: 'cp1', host: 1, type: 'controlplane', bootTime: 1_700_000_200 },
        { name: 'cp2', host: 2, type: 'controlplane', bootTime: 1_700_000_300 },
        // Oldest: the only node that sees three control planes (itself through its local apid, cp1 and cp2
        // directly) is also the one the others would elect, so the outcome does not depend on timing.
        { name: 'cp3', host: 3, type: 'controlplane', bootTime: 1_700_000_100 },
      ],
    });
    forwarder = await startForwarder(FORWARDED, h.ip('cp3'), APID_PORT);
    const peers = [h.ip('cp1'), h.ip('cp2'), FORWARDED].join(',');
    for (const n of ['cp1', 'cp2', 'cp3']) h.daemon(n, { TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static', TALOS_AUTO_BOOTSTRAP_PEERS: peers });
    const codes = await Promise.all(h.daemons.map((d) => d.exitWithin(60_000)));
    expect(codes).toEqual([0, 0, 0]);
    expect(h.sim.bootstrapCalls().map((b) => [b.node, b.codeName])).toEqual([['cp3', 'OK']]);
    expect(h.sim.etcdClusters()).toHaveLength(1);
    expect(h.sim.etcdClusters()[0]?.members).toHaveLength(3);
    // The forwarder really carried handshakes to cp3: the address was dialled, not skipped.
    expect(forwarder.connections()).toBeGreaterThan(0);

    const cp3 = h.ip('cp3');
    for (const d of h.daemons) {
      const ignored = d.events('peer-ignored');
      expect(ignored.map((l) => l.peer)).toEqual([FORWARDED]);
      const reason = String(ignored[0]?.reason);
      expect(reason).toContain(`apid certificate does not list ${FORWARDED}`);
      // The SANs are listed, so the operator sees which node answered there (cp3) and can list it by that address.
      expect(reason).toMatch(new RegExp(`\\(SANs: .*IP Address:${cp3.replace(/\./g, '\\.')}\\b.*\\)`));
      expect(d.lines.some((l) => l.event === 'decision' && l.msg.includes(FORWARDED))).toBe(false);
      expect(d.lines.some((l) => l.event === 'discovery' && l.msg.includes(FORWARDED))).toBe(false);
    }
    // cp1 and cp2 took more than one round before the cluster formed, so "once" was tested.
    for (const d of h.daemons.filter((x) => x.name !== 'cp3')) expect(d.events('decision').length).toBeGreaterThan(1);

    // The operator side: status with the forwarded address among --nodes names it with the reason, never healthy.
    dir = mkdtempSync(join(tmpdir(), 'ab-nat-'));
    const admin = h.sim.clientCertificate({ roles: ['os:admin'], cn: 'operator' });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const talosconfig = join(dir, 'talosconfig');
    writeFileSync(talosconfig, stringify({ context: 't', contexts: { t: { endpoints: [], nodes: [], ca: b64(h.sim.osCaPem()), crt: b64(admin.certPem), key: b64(admin.keyPem) } } }));
    const operator = async (command: 'status' | 'verify', nodes: string[]) => {
      const extra = command === 'verify' ? ['--timeout', '1s', '--interval', '400ms'] : [];
      const proc = spawn([BINARY, command, '--nodes', nodes.join(','), '--talosconfig', talosconfig, ...extra], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir as string },
        stdin: 'ignore',
        stdout: 'pipe',
        stderr: 'pipe',
      });
      const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      if (process.env.E2E_VERBOSE) console.log(`$ autobootstrap ${command} --nodes ${nodes.join(',')}\n${stderr}${stdout}`);
      return { code, stdout, stderr };
    };
    const control = await operator('status', [h.ip('cp1'), h.ip('cp2'), cp3]);
    expect(control.code).toBe(0);
    expect(control.stdout).toContain('healthy single cluster');
    const sans = new RegExp(`SANs: [^)]*IP Address:${cp3.replace(/\./g, '\\.')}\\b`);
    const s = await operator('status', [h.ip('cp1'), h.ip('cp2'), FORWARDED]);
    expect(s.code).toBe(1);
    expect(s.stdout).not.toContain('healthy single cluster');
    expect(s.stdout).toContain('\ndegraded: ');
    expect(s.stdout).toContain(`${FORWARDED}: its apid certificate does not name ${FORWARDED} (SANs: `);
    expect(s.stdout).toMatch(sans);
    expect(s.stdout).toContain(`fix: list the node by an address its certificate names, or add ${FORWARDED} to its machine.certSANs`);
    const v = await operator('verify', [h.ip('cp1'), h.ip('cp2'), FORWARDED]);
    expect(v.code).toBe(1);
    expect(v.stdout).not.toContain('verified');
    expect(v.stdout).toContain(`${FORWARDED} (${FORWARDED}) is stuck: has its config, but its apid certificate does not name ${FORWARDED}`);
    expect(v.stdout).toContain(`next: list the node by an address its certificate names, or add ${FORWARDED} to its machine.certSANs`);
    // Read-only: still the one Bootstrap and the one cluster.
    expect(h.sim.bootstrapCalls()).toHaveLength(1);
    expect(h.sim.etcdClusters()).toHaveLength(1);
  }, 120_000);
});
