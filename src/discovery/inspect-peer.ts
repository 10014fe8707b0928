// Turns one address into a verified candidate, or says why it is not one.
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Candidate, EtcdState, MachineType } from '../bootstrap/core/observation.ts';
import type { ClientIdentity } from '../talos/channel.ts';
import { classifyReadError, codeName } from '../talos/error-class.ts';
import { NodeClient, TalosCallError } from '../talos/node-client.ts';
import { ETCD_SERVICE_ID, MACHINE_STATUS, MACHINE_TYPE, SERVICES } from '../talos/resources.ts';
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

function etcdStateOf(spec: unknown): EtcdState {
  return spec !== null && typeof spec === 'object' && (spec as { running?: unknown }).running === true ? 'running' : 'not-running';
}

async function etcdState(client: NodeClient): Promise<EtcdState> {
  try {
    const service = await client.getResource(SERVICES, ETCD_SERVICE_ID);
    // No etcd service resource: the service was never started on this node.
    return service ? etcdStateOf(service.spec) : 'not-running';
  } catch {
    // Not answering is not the same as not running.
    return 'unknown';
  }
}

export async function inspectPeer(address: string, opts: InspectOptions): Promise<Inspection> {
  const tls = await probeTls(address, opts.port, opts.identity, opts.timeoutMs);
  if (tls.kind === 'closed') return { kind: 'silent', reason: tls.reason };
  if (tls.kind !== 'trusted') return { kind: 'rejected', reason: tls.reason, untrusted: true };

  const client = new NodeClient(address, opts.port, opts.credentials(address), opts.timeoutMs);
  try {
    const [bootTime, typeRes, statusRes, hostname, etcd] = await Promise.all([
      client.bootTime(),
      client.getResource(MACHINE_TYPE),
      client.getResource(MACHINE_STATUS),
      client.hostname(),
      etcdState(client),
    ]);
    const typeText = typeof typeRes?.spec === 'string' ? typeRes.spec : 'unknown';
    const machineType = (MACHINE_TYPES as string[]).includes(typeText) ? (typeText as MachineType) : 'unknown';
    const stage = (statusRes?.spec as { stage?: string } | null)?.stage ?? 'unknown';
    if (bootTime <= 0n) return { kind: 'rejected', reason: 'SystemStat reported no boot time', untrusted: false };
    return { kind: 'candidate', candidate: { address, hostname, bootTime, machineType, stage, etcd } };
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
