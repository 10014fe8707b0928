// preflight's verdict for one node, from what was seen. Pure: observations in, checks out.
import { checkUnattendedMatch } from '../../machine-config/unattended-install.ts';
import { checkInstallDisk, type DiskInfo } from './disk-selector.ts';
import type { NodeProbe } from '../nodes/identify-node.ts';
import type { NodeConfigRead } from '../inputs/node-config.ts';
import { formatDuration } from '../../util/duration.ts';

export type CheckName = 'reachable' | 'cert-fingerprint' | 'maintenance' | 'config' | 'machine-type' | 'ca-key' | 'install-disk' | 'machine-config';
export const CHECKS: CheckName[] = ['reachable', 'cert-fingerprint', 'maintenance', 'config', 'machine-type', 'ca-key', 'install-disk', 'machine-config'];

export interface Check {
  name: CheckName;
  /** 'skip': could not be checked because an earlier check failed. */
  result: 'pass' | 'fail' | 'skip';
  detail: string;
  fix?: string;
  /** Passed, but something the operator must know before anything is wiped (shown in text and JSON alike). */
  warning?: string;
}

export interface PreflightInput {
  address: string;
  probe: NodeProbe;
  attempts: number;
  config: NodeConfigRead;
  /** `timedOut`: the disk list ran out of the call timeout. */
  disks: DiskInfo[] | { error: string; timedOut?: boolean } | undefined;
  /** Each call's deadline (--call-timeout, ms): named when a node ran out of it. */
  callTimeoutMs?: number;
  /** --cert-fingerprint given for the node, and what its server presented (undefined: it did not answer). */
  fingerprint?: { expected: string[]; served: string | undefined };
}

const pass = (name: CheckName, detail: string): Check => ({ name, result: 'pass', detail });
const fail = (name: CheckName, detail: string, fix: string): Check => ({ name, result: 'fail', detail, fix });
const skip = (name: CheckName, detail: string): Check => ({ name, result: 'skip', detail });

/** What to tell an operator whose node ran out of the call timeout: it may only be slow. */
function raiseCallTimeout(input: PreflightInput): string {
  return `on a slow network raise --call-timeout${input.callTimeoutMs !== undefined ? ` (now ${formatDuration(input.callTimeoutMs)})` : ''}`;
}

export function preflightChecks(input: PreflightInput): Check[] {
  const out: Check[] = [];
  const { probe, config } = input;
  if (probe.kind === 'unreachable') {
    // No handshake within the deadline (tls-probe.ts): nothing refused it, so it may only be slow.
    const slow = /^no TLS handshake within/.test(probe.detail) ? `; ${raiseCallTimeout(input)}` : '';
    out.push(fail('reachable', `no answer on ${input.address}:50000 after ${input.attempts} attempts (${probe.detail})`, `power the node on, boot it from the Talos ISO/PXE, and check that TCP 50000 is reachable from here${slow}`));
    out.push(skip('maintenance', 'node not reachable'));
  } else {
    out.push(pass('reachable', `apid answers on ${input.address}:50000`));
    const fp = input.fingerprint;
    if (fp && fp.served !== undefined && fp.expected.includes(fp.served)) out.push(pass('cert-fingerprint', `server certificate fingerprint ${fp.served} is one of --cert-fingerprint`));
    else if (fp) {
      out.push(
        fail(
          'cert-fingerprint',
          `server certificate fingerprint ${fp.served ?? '(none seen)'} matches none of --cert-fingerprint ${fp.expected.join(', ')}: apply will send it nothing`,
          'check that the address is the node you mean: its console (maintenance mode) prints its certificate fingerprint; a node that rebooted has a new one, so update --cert-fingerprint',
        ),
      );
    }
    out.push(
      probe.kind === 'maintenance'
        ? pass('maintenance', 'stage maintenance (no config yet)')
        : probe.kind === 'configured'
          ? fail('maintenance', `not in maintenance: ${probe.detail}`, 'this node already has a config: leave it out of apply, or reset it to maintenance (talosctl reset) if it must be reconfigured')
          : probe.slow
            ? fail(
                'maintenance',
                `slow: apid completed the TLS handshake, but MachineStatus did not answer within the call timeout${input.callTimeoutMs !== undefined ? ` of ${formatDuration(input.callTimeoutMs)}` : ''} (${input.attempts} attempt${input.attempts === 1 ? '' : 's'})`,
                `${raiseCallTimeout(input)}; else check that the address is the node meant for this config and that it booted the Talos ISO/PXE`,
              )
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
  if (facts.machineType === 'unknown') {
    out.push(fail('machine-type', 'machine.type is unknown', 'set machine.type to controlplane or worker in the config'));
  } else if (!config.config.machineTypeSet) {
    // Talos applies it as a worker (pkg/machinery/config/machine/machine.go, ParseType): not a refusal.
    out.push(pass('machine-type', 'worker (machine.type is not set; Talos reads it as worker)'));
  } else {
    out.push(pass('machine-type', facts.machineType));
  }
  if (!cp) out.push(pass('ca-key', 'worker: machine.ca.key not needed'));
  else if (facts.caKeyPem) out.push(pass('ca-key', 'control plane config carries machine.ca.key'));
  else out.push(fail('ca-key', 'control plane config has no machine.ca.key', 'generate the control-plane config with its secrets (talosctl gen config --with-secrets / talhelper genconfig); a control plane cannot run without the OS CA key'));

  if (input.disks === undefined) out.push(skip('install-disk', 'node not reachable'));
  else if ('error' in input.disks) {
    const fix = input.disks.timedOut ? `${raiseCallTimeout(input)}; else check the node is in maintenance and re-run preflight` : 'check the node is in maintenance and re-run preflight';
    out.push(fail('install-disk', `cannot list the node's disks: ${input.disks.error}`, fix));
  }
  else {
    const { unattendedMatch } = config.config.install;
    const verdict = unattendedMatch !== undefined ? checkUnattendedMatch(unattendedMatch, input.disks) : checkInstallDisk(config.config.install, input.disks);
    const warning = 'warning' in verdict ? verdict.warning : undefined;
    out.push(verdict.ok ? { ...pass('install-disk', verdict.detail), ...(warning ? { warning } : {}) } : fail('install-disk', verdict.detail, 'fix machine.install.disk / diskSelector to match one of the disks shown (talosctl get disks --insecure -n ADDRESS)'));
  }
  return out;
}
