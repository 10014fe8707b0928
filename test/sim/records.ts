// What happened in a simulation, kept for assertions ("exactly one Bootstrap succeeded") and
// streamed as events for a readable timeline (the demo prints one line per event).
import { EventEmitter } from 'node:events';
import type { BootstrapRecord, CallRecord, EtcdClusterRecord, SimEvent, TlsRefusalRecord } from './types.ts';

export class Recorder extends EventEmitter {
  readonly calls: CallRecord[] = [];
  readonly bootstraps: BootstrapRecord[] = [];
  readonly clusters: EtcdClusterRecord[] = [];
  readonly tlsRefusals: TlsRefusalRecord[] = [];
  readonly timeline: SimEvent[] = [];

  emitEvent(event: SimEvent): void {
    this.timeline.push(event);
    switch (event.kind) {
      case 'call':
        this.calls.push(event.record);
        break;
      case 'bootstrap':
        this.bootstraps.push(event.record);
        break;
      case 'tls-refused':
        this.tlsRefusals.push(event.record);
        break;
      default:
        break;
    }
    this.emit('event', event);
  }

  addCluster(cluster: EtcdClusterRecord): void {
    this.clusters.push(cluster);
  }
}

const time = (d: Date) => d.toISOString().slice(11, 23);

/** One human-readable line per event. */
export function formatEvent(event: SimEvent): string {
  switch (event.kind) {
    case 'call': {
      const r = event.record;
      const outcome = r.code === 0 ? 'OK' : `${r.codeName} ${JSON.stringify(r.message)}`;
      return `${time(r.at)} ${r.node} call ${r.method.replace(/^\//, '')} from ${r.callerCn ?? '(no CN)'} [${r.roles.join(',')}] -> ${outcome}`;
    }
    case 'bootstrap': {
      const r = event.record;
      const outcome = r.code === 0 ? 'SUCCEEDED' : `refused ${r.codeName} ${JSON.stringify(r.message)}`;
      return `${time(r.at)} ${r.node} BOOTSTRAP from ${r.callerCn ?? '(no CN)'} ${outcome}`;
    }
    case 'etcd-formed':
      return `${time(event.at)} ${event.node} etcd cluster ${event.clusterId} formed (group ${event.group})`;
    case 'etcd-joined':
      return `${time(event.at)} ${event.node} joined etcd cluster ${event.clusterId} as member ${event.memberId}`;
    case 'etcd-running':
      return `${time(event.at)} ${event.node} etcd running (cluster ${event.clusterId}, member ${event.memberId})`;
    case 'tls-refused': {
      const r = event.record;
      return `${time(r.at)} ${r.node} TLS refused ${r.subject ?? '(no certificate)'}: ${r.reason}`;
    }
    case 'node-up':
      return `${time(event.at)} ${event.node} up`;
    case 'apid-cert-regenerated':
      return `${event.node} apid certificate regenerated (${event.reason})`;
    case 'clock-stepped':
      return `${event.node} clock stepped by ${event.deltaMs} ms (boot time now ${event.bootTime})`;
    case 'node-rebooted':
      return `${event.node} rebooted (boot time ${event.bootTime}${event.lostBootstrap ? '; the accepted Bootstrap was lost' : ''})`;
    case 'node-down':
      return `${time(event.at)} ${event.node} down`;
    case 'config-applied':
      return `${time(event.at)} ${event.node} configuration applied (${event.mode}) by ${event.callerCn ?? '(no CN)'}`;
  }
}
