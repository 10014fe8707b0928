// One look at a node for verify and status: with the talosconfig's credentials when the node has its
// config, insecurely when it is still in maintenance. Every failure becomes part of the observation.
import type { ClientIdentity } from '../../talos/channel.ts';
import { localMemberId, machineStage } from '../../talos/machine-state.ts';
import type { NodeClient } from '../../talos/node-client.ts';
import { ETCD_LOCAL_MEMBER, ETCD_SERVICE_ID, MACHINE_STATUS, MACHINE_TYPE } from '../../talos/resources.ts';
import { APID_PORT, certificateNames, secureClient, shortTransportError } from './connect.ts';
import { dialOf } from '../inputs/node-address.ts';
import { identifyNode, type TrustedCa } from './identify-node.ts';
import { clientCertificateProblem } from '../rules/client-credentials.ts';
import { formatDuration } from '../../util/duration.ts';
import type { NodeTarget } from '../inputs/target.ts';
import type { NodeObservation } from '../rules/verdict.ts';

export const EXT_SERVICE_ID = 'ext-autobootstrap';

export interface ObserveOptions {
  identity: ClientIdentity | undefined;
  /** CAs a configured node's apid certificate may chain to: the talosconfig's, the node's config file's. */
  cas: TrustedCa[];
  deadlineMs: number;
  /** Role from the node's config file, used until the node says otherwise. */
  configRole?: string;
  /** talosctl's endpoints: configured nodes are reached through them (one-to-one proxying); empty: directly. */
  endpoints?: string[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function configuredView(client: NodeClient, target: NodeTarget, configRole: string | undefined): Promise<NodeObservation> {
  const [type, machineStatus, services] = await Promise.all([client.getResource(MACHINE_TYPE), client.getResource(MACHINE_STATUS), client.services()]);
  const role = typeof type?.spec === 'string' ? type.spec : configRole;
  const stage = machineStage(machineStatus);
  // A node in maintenance mode that answered anyway (its apid asks no certificate): not configured.
  if (stage === 'maintenance' || type?.spec === 'unknown') return { name: target.name, address: target.address, reach: 'maintenance', stage: 'maintenance', ...(configRole ? { role: configRole } : {}) };
  const obs: NodeObservation = { name: target.name, address: target.address, reach: 'configured', servicesRead: true, ...(role ? { role } : {}), ...(stage ? { stage } : {}) };
  const ext = services.find((s) => s.id === EXT_SERVICE_ID);
  if (ext) obs.extState = ext.state;
  if (role !== 'controlplane' && role !== 'init') return obs;
  obs.etcdState = services.find((s) => s.id === ETCD_SERVICE_ID)?.state ?? 'absent';
  if (obs.etcdState === 'Running') {
    try {
      const [local, members] = await Promise.all([client.getResource(ETCD_LOCAL_MEMBER), client.etcdMembers(true)]);
      const id = localMemberId(local);
      if (id) obs.etcdMemberId = id;
      obs.etcdMembers = members.map((m) => m.id).sort();
      obs.memberList = members.map((m) => ({ id: m.id, hostname: m.hostname, isLearner: m.isLearner, peerUrls: m.peerUrls }));
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
    const client = secureClient(target.address, options.identity, options.deadlineMs, undefined, options.endpoints);
    try {
      return await configuredView(client, target, options.configRole);
    } catch (e) {
      secureError = message(e);
    } finally {
      client.close();
    }
  }
  // No answer with credentials: in maintenance, configured for other credentials, or not there at all?
  const probe = await identifyNode(target.address, options.cas, options.deadlineMs);
  if (probe.kind === 'maintenance') return { ...base, reach: 'maintenance', stage: 'maintenance' };
  const via = options.endpoints && options.endpoints.length > 0 ? options.endpoints.join(',') : undefined;
  if (probe.kind === 'unreachable' && via && secureError) {
    // Operators often reach only the endpoints: what the endpoint said about the node is the news.
    return { ...base, reach: 'unreachable', detail: `${probe.detail}; through endpoint ${via}: ${shortTransportError(secureError)}` };
  }
  if (probe.kind === 'unknown' && probe.otherCa) return { ...base, reach: 'other-ca', detail: probe.detail };
  if (probe.kind === 'unreachable' || probe.kind === 'unknown') return { ...base, reach: probe.kind, detail: probe.detail };
  if (options.identity && probe.ca !== undefined && probe.ca.pem.trim() !== options.identity.caPem.trim()) {
    // Configured with its config file's OS CA, which is not the talosconfig's: the talosconfig is another cluster's.
    return { ...base, reach: 'other-ca', detail: `${probe.detail}, not to the talosconfig's CA: the talosconfig is for another cluster (${secureError ?? 'its credentials were refused'})` };
  }
  const to = dialOf(target.address, APID_PORT);
  if (!via && secureError !== undefined && probe.subjectAltName !== undefined && !certificateNames(probe.subjectAltName, to)) {
    // A node of this cluster whose certificate does not name the address dialled (a NAT or port-forward address):
    // the mutual TLS check refused it, not the node us. Whatever answers there cannot be told to be that node.
    const problem = `its apid certificate does not name ${to.host} (SANs: ${probe.subjectAltName}): reached through an address the node does not know (NAT or port forward?), so what answers there cannot be trusted as that node`;
    return {
      ...base,
      reach: 'configured',
      detail: `has its config (${probe.detail}) but ${problem}`,
      unread: { problem, fix: `list the node by an address its certificate names, or add ${to.host} to its machine.certSANs and apply the config` },
    };
  }
  // Refused by a node of the talosconfig's own cluster: the talosconfig may show why (expired, wrong EKU, another cluster's crt).
  const credentials = options.identity ? clientCertificateProblem(options.identity, new Date()) : undefined;
  if (credentials) {
    const problem = `refused the talosconfig's credentials: ${credentials.problem}`;
    return { ...base, reach: 'configured', detail: `has its config (${probe.detail}) but ${problem}`, unread: { problem, fix: credentials.fix } };
  }
  if (secureError !== undefined && /deadline exceeded/i.test(secureError)) {
    // It answered the handshake: slow, not refusing. Saying "refused" here would send the operator after certificates.
    const problem = `did not answer within the call timeout of ${formatDuration(options.deadlineMs)}${via ? ` through endpoint ${via}` : ''} (${shortTransportError(secureError)})`;
    return { ...base, reach: 'configured', detail: `has its config (${probe.detail}) but ${problem}`, unread: { problem, fix: `on a slow network raise --call-timeout (now ${formatDuration(options.deadlineMs)}); else check the node: talosctl -n ${target.address} version` } };
  }
  const why = options.identity
    ? `has its config (${probe.detail}) but refused the talosconfig credentials (${secureError ?? 'unknown error'})`
    : `has its config (${probe.detail}); give --talosconfig to look closer`;
  return { ...base, reach: 'configured', detail: why };
}
