// One look at a node for verify and status: with the talosconfig's credentials when the node has its
// config, insecurely when it is still in maintenance. Every failure becomes part of the observation.
import type { ClientIdentity } from '../talos/channel.ts';
import type { NodeClient } from '../talos/node-client.ts';
import { ETCD_LOCAL_MEMBER, ETCD_SERVICE_ID, MACHINE_STATUS, MACHINE_TYPE } from '../talos/resources.ts';
import { probeInsecure, secureClient } from './connect.ts';
import type { NodeTarget } from './target.ts';
import type { NodeObservation } from './verdict.ts';

export const EXT_SERVICE_ID = 'ext-autobootstrap';

export interface ObserveOptions {
  identity: ClientIdentity | undefined;
  deadlineMs: number;
  /** Role from the node's config file, used until the node says otherwise. */
  configRole?: string;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** EtcdMembers/local carries the member id as 16 hex digits; EtcdMemberList as a decimal uint64. */
export function memberIdFromHex(hex: string): string | undefined {
  return /^[0-9a-fA-F]{1,16}$/.test(hex) ? BigInt(`0x${hex}`).toString() : undefined;
}

async function configuredView(client: NodeClient, target: NodeTarget, configRole: string | undefined): Promise<NodeObservation> {
  const [type, machineStatus, services] = await Promise.all([client.getResource(MACHINE_TYPE), client.getResource(MACHINE_STATUS), client.services()]);
  const role = typeof type?.spec === 'string' ? type.spec : configRole;
  const stage = (machineStatus?.spec as { stage?: string } | null)?.stage;
  const obs: NodeObservation = { name: target.name, address: target.address, reach: 'configured', ...(role ? { role } : {}), ...(stage ? { stage } : {}) };
  const ext = services.find((s) => s.id === EXT_SERVICE_ID);
  if (ext) obs.extState = ext.state;
  if (role !== 'controlplane' && role !== 'init') return obs;
  obs.etcdState = services.find((s) => s.id === ETCD_SERVICE_ID)?.state ?? 'absent';
  if (obs.etcdState === 'Running') {
    try {
      const [local, members] = await Promise.all([client.getResource(ETCD_LOCAL_MEMBER), client.etcdMembers(true)]);
      const hex = (local?.spec as { memberID?: unknown } | null)?.memberID;
      const id = typeof hex === 'string' ? memberIdFromHex(hex) : undefined;
      if (id) obs.etcdMemberId = id;
      obs.etcdMembers = members.map((m) => m.id).sort();
    } catch (e) {
      obs.detail = `etcd membership unreadable: ${message(e)}`;
    }
  } else if (ext) {
    try {
      obs.extLog = await client.logTail(EXT_SERVICE_ID, 3);
    } catch {
      // logs are a hint only
    }
  }
  return obs;
}

export async function observeNode(target: NodeTarget, options: ObserveOptions): Promise<NodeObservation> {
  const base = { name: target.name, address: target.address, ...(options.configRole ? { role: options.configRole } : {}) };
  let secureError: string | undefined;
  if (options.identity) {
    const client = secureClient(target.address, options.identity, options.deadlineMs);
    try {
      return await configuredView(client, target, options.configRole);
    } catch (e) {
      secureError = message(e);
    } finally {
      client.close();
    }
  }
  // No answer with credentials: in maintenance, or not there at all?
  const probe = await probeInsecure(target.address, options.deadlineMs);
  if (probe.kind === 'maintenance') return { ...base, reach: 'maintenance', stage: 'maintenance' };
  if (probe.kind === 'unreachable') return { ...base, reach: 'unreachable', detail: probe.detail };
  const why = options.identity ? `has its config but refused the talosconfig credentials (${secureError ?? 'unknown error'})` : 'has its config; give --talosconfig to look closer';
  return { ...base, reach: 'configured', detail: why };
}
