// Turns one address into a verified candidate, or says why it is not one.
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Candidate, EtcdState, MachineType } from '../bootstrap/core/observation.ts';
import type { ClientIdentity } from '../talos/channel.ts';
import { classifyReadError, codeName } from '../talos/error-class.ts';
import { NodeClient, TalosCallError, type ServiceState } from '../talos/node-client.ts';
import { machineStage } from '../talos/machine-state.ts';
import { ETCD_SERVICE_ID, MACHINE_STATUS, MACHINE_TYPE, TIME_STATUS } from '../talos/resources.ts';
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
  credentials: (address: string) => ChannelCredentials;
}

const MACHINE_TYPES: MachineType[] = ['controlplane', 'init', 'worker', 'unknown'];

/**
 * etcd's state from machined's service list. Talos keeps a Services resource only while a service runs,
 * so its absence proves nothing; the service list names the state itself.
 */
export function etcdStateFromServices(services: ServiceState[]): EtcdState {
  const etcd = services.find((s) => s.id === ETCD_SERVICE_ID);
  if (etcd?.state === 'Running') return 'running';
  if (etcd?.state === 'Preparing') return 'not-running';
  return 'unknown';
}

async function etcdState(client: NodeClient): Promise<EtcdState> {
  try {
    return etcdStateFromServices(await client.services());
  } catch {
    // Not answering is not the same as not running.
    return 'unknown';
  }
}

async function timeSynced(client: NodeClient): Promise<boolean> {
  const status = await client.getResource(TIME_STATUS);
  return (status?.spec as { synced?: unknown } | null)?.synced === true;
}

export async function inspectPeer(address: string, opts: InspectOptions): Promise<Inspection> {
  const tls = await probeTls(address, opts.port, opts.identity, opts.timeoutMs);
  if (tls.kind === 'closed') return { kind: 'silent', reason: tls.reason };
  if (tls.kind !== 'trusted') return { kind: 'rejected', reason: tls.reason, untrusted: true };

  const client = new NodeClient(address, opts.port, opts.credentials(address), opts.timeoutMs);
  try {
    const [bootTime, typeRes, statusRes, hostname, etcd, synced] = await Promise.all([
      client.bootTime(),
      client.getResource(MACHINE_TYPE),
      client.getResource(MACHINE_STATUS),
      client.hostname(),
      etcdState(client),
      timeSynced(client),
    ]);
    const typeText = typeof typeRes?.spec === 'string' ? typeRes.spec : 'unknown';
    const machineType = (MACHINE_TYPES as string[]).includes(typeText) ? (typeText as MachineType) : 'unknown';
    const stage = machineStage(statusRes) ?? 'unknown';
    if (bootTime <= 0n) return { kind: 'rejected', reason: 'SystemStat reported no boot time', untrusted: false };
    // Before time sync the clock may still be stepped, and /proc/stat btime moves with it.
    if (!synced) return { kind: 'rejected', reason: 'time not synced yet (its boot time is not final)', untrusted: false };
    return { kind: 'candidate', candidate: { address, identity: tls.identity, hostname, bootTime, machineType, stage, etcd } };
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
