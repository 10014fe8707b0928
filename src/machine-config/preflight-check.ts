// preflight's `machine-config` check: the config file checked as Talos will check it when it is applied
// (src/machine-config/check.ts), one line per finding with Talos's reason, the rule id and the Talos source.
import { checkMachineConfig, MAINTENANCE_METAL, type Finding } from './check.ts';

export interface MachineConfigCheck {
  result: 'pass' | 'fail' | 'skip';
  detail: string;
  fix?: string;
  findings: Finding[];
}

/** A finding as one line: Talos's reason first (so it can be matched with what Talos says), then this config's detail. */
export function describeFinding(f: Finding): string {
  const whose = f.rule.scope === 'talos' ? 'Talos refuses' : 'autobootstrap refuses';
  return `${whose}: "${f.rule.reason}" (${f.rule.id}; ${f.detail}; ${f.rule.source})`;
}

/**
 * The check over the config text; `undefined` when the file could not be read (the `config` check says why).
 * Pure. A node in maintenance mode on bare metal is the mode autobootstrap's apply targets.
 */
export function machineConfigCheck(text: string | undefined): MachineConfigCheck {
  if (text === undefined) return { result: 'skip', detail: 'config file unreadable', findings: [] };
  const findings = checkMachineConfig(text, MAINTENANCE_METAL);
  if (findings.length === 0) return { result: 'pass', detail: 'Talos\'s apply-time rules pass', findings };
  return {
    result: 'fail',
    detail: findings.map(describeFinding).join('; '),
    fix: 'correct the config (talosctl validate --config FILE --mode metal shows Talos\'s own verdict) and regenerate it with talhelper genconfig / talosctl gen config',
    findings,
  };
}
