// preflight's verdict for one node, from what was seen. Pure: observations in, checks out.
import { checkInstallDisk, type DiskInfo } from './disk-selector.ts';
import type { NodeProbe } from '../nodes/identify-node.ts';
import type { NodeConfigRead } from '../inputs/node-config.ts';

export type CheckName = 'reachable' | 'maintenance' | 'config' | 'machine-type' | 'ca-key' | 'install-disk';
export const CHECKS: CheckName[] = ['reachable', 'maintenance', 'config', 'machine-type', 'ca-key', 'install-disk'];

export interface Check {
  name: CheckName;
  /** 'skip': could not be checked because an earlier check failed. */
  result: 'pass' | 'fail' | 'skip';
  detail: string;
  fix?: string;
}

export interface PreflightInput {
  address: string;
  probe: NodeProbe;
  attempts: number;
  config: NodeConfigRead;
  disks: DiskInfo[] | { error: string } | undefined;
}

const pass = (name: CheckName, detail: string): Check => ({ name, result: 'pass', detail });
const fail = (name: CheckName, detail: string, fix: string): Check => ({ name, result: 'fail', detail, fix });
const skip = (name: CheckName, detail: string): Check => ({ name, result: 'skip', detail });

export function preflightChecks(input: PreflightInput): Check[] {
  const out: Check[] = [];
  const { probe, config } = input;
  if (probe.kind === 'unreachable') {
    out.push(fail('reachable', `no answer on ${input.address}:50000 after ${input.attempts} attempts (${probe.detail})`, 'power the node on, boot it from the Talos ISO/PXE, and check that TCP 50000 is reachable from here'));
    out.push(skip('maintenance', 'node not reachable'));
  } else {
    out.push(pass('reachable', `apid answers on ${input.address}:50000`));
    out.push(
      probe.kind === 'maintenance'
        ? pass('maintenance', 'stage maintenance (no config yet)')
        : probe.kind === 'configured'
          ? fail('maintenance', `not in maintenance: ${probe.detail}`, 'this node already has a config: leave it out of apply, or reset it to maintenance (talosctl reset) if it must be reconfigured')
          : fail('maintenance', `cannot tell: ${probe.detail}`, 'check that the address is the node meant for this config and that it booted the Talos ISO/PXE; then re-run preflight'),
    );
  }
  if (!config.ok) {
    out.push(fail('config', config.problem, 'fix or regenerate the machine config file (talhelper genconfig / talosctl gen config)'));
    out.push(skip('machine-type', 'config unreadable'), skip('ca-key', 'config unreadable'), skip('install-disk', 'config unreadable'));
    return out;
  }
  const facts = config.config.facts;
  out.push(pass('config', `${config.config.path} parses`));
  const cp = facts.machineType === 'controlplane' || facts.machineType === 'init';
  if (!config.config.machineTypeSet || facts.machineType === 'unknown') {
    out.push(fail('machine-type', 'machine.type is not set', 'set machine.type to controlplane or worker in the config'));
  } else {
    out.push(pass('machine-type', facts.machineType));
  }
  if (!cp) out.push(pass('ca-key', 'worker: machine.ca.key not needed'));
  else if (facts.caKeyPem) out.push(pass('ca-key', 'control plane config carries machine.ca.key'));
  else out.push(fail('ca-key', 'control plane config has no machine.ca.key', 'generate the control-plane config with its secrets (talosctl gen config --with-secrets / talhelper genconfig); a control plane cannot run without the OS CA key'));

  if (input.disks === undefined) out.push(skip('install-disk', 'node not reachable'));
  else if ('error' in input.disks) out.push(fail('install-disk', `cannot list the node's disks: ${input.disks.error}`, 'check the node is in maintenance and re-run preflight'));
  else {
    const verdict = checkInstallDisk(config.config.install, input.disks);
    out.push(verdict.ok ? pass('install-disk', verdict.detail) : fail('install-disk', verdict.detail, 'fix machine.install.disk / diskSelector to match one of the disks shown (talosctl get disks --insecure -n ADDRESS)'));
  }
  return out;
}
