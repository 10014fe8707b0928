// The services machined reports for a node (ServiceList, and Services resources for the running ones).
// Before bootstrap a control plane's etcd sits in Preparing, waiting to join; it never runs on workers.

import type { SimNode } from './node.ts';
import { etcdServiceView } from './etcd-service.ts';

export interface ServiceStatus {
  id: string;
  state: string;
  healthy: boolean;
  /** Health not known (no health check, or none run yet). */
  unknown: boolean;
  lastMessage: string;
  events: { msg: string; state: string }[];
}

const running = (id: string, healthy: boolean | 'unknown', msg = 'Health check successful'): ServiceStatus => ({
  id,
  state: 'Running',
  healthy: healthy === true,
  unknown: healthy === 'unknown',
  lastMessage: healthy === true ? msg : '',
  events: [
    { msg: 'Starting service', state: 'Starting' },
    { msg: 'Service started as goroutine', state: 'Running' },
  ],
});

function etcdStatus(node: SimNode): ServiceStatus {
  if (node.etcd.running) {
    return running('etcd', true);
  }
  const view = etcdServiceView(node);
  return { id: 'etcd', state: view.state, healthy: false, unknown: true, lastMessage: '', events: view.events };
}

export function serviceStatuses(node: SimNode): ServiceStatus[] {
  const list: ServiceStatus[] = [running('apid', true), running('machined', true), running('udevd', true), running('syslogd', true), running('containerd', true)];
  if (!node.maintenance) {
    list.push(running('auditd', 'unknown'));
    list.push(
      node.criReady
        ? running('cri', true)
        : { id: 'cri', state: 'Waiting', healthy: false, unknown: true, lastMessage: '', events: [{ msg: 'Waiting for service "containerd" to be "up"', state: 'Waiting' }] },
    );
    if (node.criReady) list.push(running('kubelet', true));
    if (node.isControlPlane) list.push(running('trustd', true));
    if (node.isControlPlane && node.etcdConfigured) list.push(etcdStatus(node));
  }
  for (const ext of node.extensions) {
    // Extension services that depend on `configuration: true` (autobootstrap's spec does) wait in maintenance.
    if (node.maintenance) {
      list.push({ id: `ext-${ext}`, state: 'Waiting', healthy: false, unknown: true, lastMessage: '', events: [{ msg: 'Waiting for machine configuration', state: 'Waiting' }] });
    } else {
      const st = node.extensionServices.get(`ext-${ext}`);
      list.push({ id: `ext-${ext}`, state: st.state, healthy: false, unknown: true, lastMessage: '', events: st.events });
    }
  }

  for (const [id, o] of node.serviceOverrides) {
    const idx = list.findIndex((s) => s.id === id);
    const s: ServiceStatus = {
      id,
      state: o.state,
      healthy: o.healthy ?? false,
      unknown: o.unknown ?? o.healthy === undefined,
      lastMessage: o.message ?? '',
      events: [{ msg: o.message ?? `Service ${o.state}`, state: o.state }],
    };
    if (idx >= 0) list[idx] = s;
    else list.push(s);
  }
  return list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
