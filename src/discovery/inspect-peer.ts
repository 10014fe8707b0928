// Turns one address into a verified candidate, or says why it is not one. Every fact about the node (its
// identity, boot time, etcd service and etcd data directory) is read over one channel pinned to the
// certificate the handshake verified, so the facts and the identity belong to the same node.
import type { ChannelCredentials } from '@grpc/grpc-js';
import { isControlPlaneType, type Candidate, type MachineType } from '../model/candidate.ts';
import { dataDirFromListing, ETCD_DATA_DIR, etcdServiceEvidence, type DataDirEvidence, type EtcdEvidence, type EtcdServiceEvidence } from '../model/etcd-evidence.ts';
import type { ClientIdentity } from '../talos/channel.ts';
import { classifyReadError, codeName } from '../talos/error-class.ts';
import { NodeClient, TalosCallError, type ServiceState } from '../talos/node-client.ts';
import { machineStage } from '../talos/machine-state.ts';
import { ETCD_SERVICE_ID, MACHINE_STATUS, MACHINE_TYPE, NODE_DEFAULT_ADDRESS, NODE_IDENTITY, TIME_STATUS, type ResourceRef } from '../talos/resources.ts';
import { isIPv4 } from '../util/ipv4.ts';
import { probeTls } from './tls-probe.ts';

export type Inspection =
  | { kind: 'candidate'; candidate: Candidate }
  /** Nothing answered on the apid port: expected for most scanned addresses. */
  | { kind: 'silent'; reason: string }
  /** Something answered but does not count, and the reason matters to an operator. */
  | { kind: 'rejected'; reason: string; untrusted: boolean };

export interface InspectOptions {
  port: number;
  timeoutMs: number;
  identity: ClientIdentity;
  /** Channel credentials for `address`, pinned to the certificate with `fingerprint`. */
  credentials: (address: string, fingerprint: string) => ChannelCredentials;
  /** Monotonic milliseconds; stamps when the questions were asked (the age of the evidence). */
  now?: () => number;
}

const MACHINE_TYPES: MachineType[] = ['controlplane', 'init', 'worker', 'unknown'];

/** The etcd entry of machined's service list, classified (src/model/etcd-evidence.ts). */
export function etcdServiceFromList(services: ServiceState[]): EtcdServiceEvidence {
  const etcd = services.find((s) => s.id === ETCD_SERVICE_ID);
  return etcdServiceEvidence(etcd ? { state: etcd.state, lastEvent: etcd.lastEvent } : undefined);
}

function failure(e: unknown): string {
  return e instanceof TalosCallError ? `${e.method} ${codeName(e.code)}: ${e.details}` : e instanceof Error ? e.message : String(e);
}

/** Every error, whatever its code, leaves the etcd service unknown: not answering is not "not running". */
export function serviceFromError(e: unknown): EtcdServiceEvidence {
  return { kind: 'unknown', why: `service list: ${failure(e)}` };
}

async function serviceEvidence(client: NodeClient): Promise<EtcdServiceEvidence> {
  try {
    return etcdServiceFromList(await client.services());
  } catch (e) {
    return serviceFromError(e);
  }
}

/** Every error, whatever its code, leaves the data directory unknown (a table test pins this). */
export function dataDirFromError(e: unknown): DataDirEvidence {
  return { kind: 'unknown', why: `listing ${ETCD_DATA_DIR}: ${failure(e)}` };
}

async function dataDirEvidence(client: NodeClient): Promise<DataDirEvidence> {
  try {
    return dataDirFromListing(await client.listDirectory(ETCD_DATA_DIR));
  } catch (e) {
    return dataDirFromError(e);
  }
}

async function timeSynced(client: NodeClient): Promise<boolean> {
  const status = await client.getResource(TIME_STATUS);
  return (status?.spec as { synced?: unknown } | null)?.synced === true;
}

/** The node identity's nodeId; undefined when the resource is missing or has none. */
export function nodeIdOf(spec: unknown): string | undefined {
  const id = (spec as { nodeId?: unknown } | null | undefined)?.nodeId;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

/** The first IPv4 address of NodeAddresses/default, without its prefix length. */
export function defaultAddressOf(spec: unknown): string | undefined {
  const list = (spec as { addresses?: unknown } | null | undefined)?.addresses;
  if (!Array.isArray(list)) return undefined;
  for (const a of list) {
    const ip = String(a).split('/')[0] ?? '';
    if (isIPv4(ip)) return ip;
  }
  return undefined;
}

async function optionalResource(client: NodeClient, ref: ResourceRef): Promise<unknown> {
  try {
    return (await client.getResource(ref))?.spec;
  } catch {
    return undefined;
  }
}

export async function inspectPeer(address: string, opts: InspectOptions): Promise<Inspection> {
  const now = opts.now ?? (() => performance.now());
  const askedAt = now();
  const tls = await probeTls(address, opts.port, opts.identity, opts.timeoutMs);
  if (tls.kind === 'closed') return { kind: 'silent', reason: tls.reason };
  if (tls.kind !== 'trusted') return { kind: 'rejected', reason: tls.reason, untrusted: true };

  const client = new NodeClient(address, opts.port, opts.credentials(address, tls.fingerprint), opts.timeoutMs);
  try {
    // All at once, the etcd questions too (their answers are dropped for a node that turns out not to be a
    // control plane): one round trip per node.
    const [bootTime, typeRes, statusRes, hostname, synced, identityRes, defaultSpec, service, dataDir] = await Promise.all([
      client.bootTime(),
      client.getResource(MACHINE_TYPE),
      client.getResource(MACHINE_STATUS),
      client.hostname(),
      timeSynced(client),
      client.getResource(NODE_IDENTITY),
      optionalResource(client, NODE_DEFAULT_ADDRESS),
      serviceEvidence(client),
      dataDirEvidence(client),
    ]);
    const typeText = typeof typeRes?.spec === 'string' ? typeRes.spec : 'unknown';
    const machineType = (MACHINE_TYPES as string[]).includes(typeText) ? (typeText as MachineType) : 'unknown';
    const stage = machineStage(statusRes) ?? 'unknown';
    const identity = nodeIdOf(identityRes?.spec);
    if (identity === undefined) return { kind: 'rejected', reason: 'no node identity (Identities.cluster.talos.dev/local) yet', untrusted: false };
    if (bootTime <= 0n) return { kind: 'rejected', reason: 'SystemStat reported no boot time', untrusted: false };
    // Before time sync the clock may still be stepped, and /proc/stat btime moves with it.
    if (!synced) return { kind: 'rejected', reason: 'time not synced yet (its boot time is not final)', untrusted: false };
    // etcd evidence only where it can matter; a worker has no etcd.
    const etcd: EtcdEvidence = isControlPlaneType(machineType)
      ? { service, dataDir }
      : { service: { kind: 'unknown', why: `a ${machineType} runs no etcd` }, dataDir: { kind: 'unknown', why: `a ${machineType} has no etcd data` } };
    const defaultAddress = defaultAddressOf(defaultSpec);
    // 127.0.0.1 is in every node's certificate (apid always serves it); it names none of them.
    const certAddresses = tls.ipSans.filter((a) => isIPv4(a) && a !== '127.0.0.1');
    return {
      kind: 'candidate',
      candidate: {
        address,
        identity,
        fingerprint: tls.fingerprint,
        certAddresses,
        ...(defaultAddress ? { defaultAddress } : {}),
        hostname,
        bootTime,
        machineType,
        stage,
        etcd,
        answeredAt: askedAt,
      },
    };
  } catch (e) {
    if (e instanceof TalosCallError) {
      const outcome = classifyReadError(e.code);
      const what = outcome === 'denied' ? 'refused our os:reader certificate' : outcome === 'no-answer' ? 'stopped answering' : 'answered with an error';
      return { kind: 'rejected', reason: `${what}: ${e.method} ${codeName(e.code)} ${e.details}`, untrusted: false };
    }
    return { kind: 'rejected', reason: String(e), untrusted: false };
  } finally {
    client.close();
  }
}
