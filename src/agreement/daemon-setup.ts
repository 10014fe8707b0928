// Starts the agreement inside `autobootstrap run`: checks that the state directory is on the host's mounted
// /var, loads the acceptor state (a lost or corrupt state stops here, with the recovery), mints the
// agreement's certificates from the OS CA, serves the agreement port and connects to peers on demand.
import { EXIT, type ExitCode } from '../exit-codes.ts';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { MachineCA } from '../pki/machine-ca.ts';
import type { NodeIdentity } from '../model/candidate.ts';
import { shouldRenew, type MintedCertificate } from '../pki/mint.ts';
import type { Message } from './core/messages.ts';
import { DEFAULT_TUNABLES } from './core/state.ts';
import { runnerAgreementFor, type RunnerAgreement } from './runner-link.ts';
import { AgreementRuntime } from './runtime.ts';
import { AcceptorFile, AcceptorStateError } from './storage/acceptor-file.ts';
import { checkStatePlacement } from './storage/on-ephemeral.ts';
import { clusterIdOf, mintAgreementClient, mintAgreementServer } from './transport/certificates.ts';
import { AgreementClient } from './transport/client.ts';
import { AgreementServer } from './transport/server.ts';

/**
 * The server certificate lives as long as the process can (grpc-js cannot swap it on a bound port), at most a
 * year and never beyond the CA; client certificates are minted for a day and renewed as apid's are.
 */
const SERVER_CERT_TTL_MS = 365 * 24 * 60 * 60 * 1000;

export type AgreementSetup = { ok: true; agreement: RunnerAgreement; runtime: AgreementRuntime; stop: () => void } | { ok: false; exitCode: ExitCode };

/**
 * `self`: NODE_IP; `listenAddresses`: every address a peer may reach this node at (NODE_IP first), where the
 * agreement server listens and which its server certificate names — peers dial the address this node's apid
 * answered them at, which on a multi-homed node need not be NODE_IP; `selfIdentity`: Talos's node identity,
 * this node's name in the agreement.
 */
export async function startAgreement(o: {
  config: Config;
  log: Logger;
  ca: MachineCA;
  self: string;
  listenAddresses: readonly string[];
  selfIdentity: NodeIdentity;
  hostProc: string;
  /** This boot's kernel boot_id (src/host/boot-id.ts); undefined when unreadable. */
  bootId: string | undefined;
}): Promise<AgreementSetup> {
  const { config, log, ca } = o;
  const listen = [...new Set([o.self, ...o.listenAddresses])];
  const self = o.selfIdentity;
  const addresses = new Map<NodeIdentity, string>();
  const clusterId = clusterIdOf(ca.certPem);
  const store = new AcceptorFile(config.stateDir, self, clusterId);
  let runtime: AgreementRuntime;
  const clients = new Map<string, { client: AgreementClient; cert: MintedCertificate }>();
  try {
    // load() creates the directory; its placement is checked before anything is written there.
    runtime = new AgreementRuntime({
      self,
      params: { quorum: config.quorumNodes, controlPlanes: config.controlPlanes, clusterId },
      store: {
        load: () => {
          const loaded = store.load();
          // Unchecked (the host's mount table unreadable) is refused too: carrying on could put promises on
          // a filesystem a reboot loses. The non-zero exit makes Talos restart the service (untilSuccess).
          const placement = checkStatePlacement(config.stateDir, o.hostProc, config.hostRoot);
          if (placement.kind !== 'ok') throw new PlacementError(placement.kind, placement.message);
          log.info({ event: 'state-placement', mountPoint: placement.mountPoint, fsType: placement.fsType }, `agreement state in ${config.stateDir}, on the host's ${placement.mountPoint} (${placement.fsType})`);
          return loaded;
        },
        save: (d) => store.save(d),
      },
      log,
      now: () => performance.now(),
      peerName: (id) => `${addresses.get(id) ?? 'an unknown address'} (node id ${id})`,
      send: (to: string, message: Message) => {
        const at = addresses.get(to);
        if (at === undefined) return Promise.reject(new Error(`no address known for node id ${to}`));
        return clientFor(at).deliver(message, DEFAULT_TUNABLES.phaseTimeoutMs);
      },
    });
  } catch (e) {
    if (e instanceof AcceptorStateError) {
      log.error({ event: 'agreement-state-lost', kind: e.kind, path: e.path }, e.message);
      return { ok: false, exitCode: EXIT.REFUSED };
    }
    if (e instanceof PlacementError) {
      log.error({ event: 'agreement-state-misplaced', check: e.kind, stateDir: config.stateDir }, e.message);
      return { ok: false, exitCode: EXIT.FAILURE };
    }
    throw e;
  }

  function clientFor(address: string): AgreementClient {
    const have = clients.get(address);
    if (have && !shouldRenew(have.cert, new Date())) return have.client;
    have?.client.close();
    const cert = mintAgreementClient(ca, self, new Date(), config.clientCertTtlMs);
    const client = new AgreementClient(address, config.agreementPort, { caPem: ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem });
    clients.set(address, { client, cert });
    return client;
  }

  const serverCert = mintAgreementServer(ca, self, listen, new Date(), SERVER_CERT_TTL_MS);
  const server = new AgreementServer(
    { caPem: ca.certPem, certPem: serverCert.certPem, keyPem: serverCert.keyPem },
    {
      deliver: (m) => runtime.receive(m),
      status: () => runtime.status(),
      refused: (peer, reason) => log.warn({ event: 'agreement-caller-refused', peer, reason }, `agreement message from ${peer} refused: ${reason}`),
    },
  );
  // NODE_IP must serve; another address of the certificate is served where it can be. One that another node
  // also carries (a VIP, a shared certSAN) may already be taken, and peers never name a node by such an
  // address (src/discovery/merge-identities.ts), so failing there loses nothing.
  const served: string[] = [];
  try {
    await server.start(o.self, config.agreementPort);
    served.push(o.self);
  } catch (e) {
    server.stop();
    log.error({ event: 'agreement-port-unavailable', port: config.agreementPort }, `${e instanceof Error ? e.message : String(e)}; set TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT to a free port (the same on every control plane)`);
    return { ok: false, exitCode: EXIT.FAILURE };
  }
  for (const address of listen.filter((a) => a !== o.self)) {
    try {
      await server.start(address, config.agreementPort);
      served.push(address);
    } catch (e) {
      log.warn(
        { event: 'agreement-address-unavailable', address, port: config.agreementPort },
        `${e instanceof Error ? e.message : String(e)}; agreement messages reach this node at ${served.join(', ')} only (an address another node also carries, such as a VIP, is never a node's address)`,
      );
    }
  }
  const s = runtime.status();
  log.info(
    { event: 'agreement-ready', port: config.agreementPort, stateDir: config.stateDir, clusterId, chosen: s.chosen, promised: s.promised },
    `agreement on ${served.join(', ')} port ${config.agreementPort} as node id ${self} (q=${config.quorumNodes}${config.controlPlanes ? ` of ${config.controlPlanes}` : ''}), state in ${config.stateDir}${s.chosen ? `; ${s.chosen} is the chosen bootstrapper` : ''}`,
  );
  const agreement = runnerAgreementFor({ runtime, self, log, config, addresses, now: () => performance.now(), ...(o.bootId !== undefined ? { bootId: o.bootId } : {}) });
  return {
    ok: true,
    agreement,
    runtime,
    stop: () => {
      server.stop();
      for (const c of clients.values()) c.client.close();
    },
  };
}

class PlacementError extends Error {
  constructor(
    readonly kind: 'wrong-filesystem' | 'unchecked',
    message: string,
  ) {
    super(message);
  }
}
