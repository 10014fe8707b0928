// Talos v1.14's UnattendedInstallConfig document (pkg/machinery/config/types/runtime/unattended_install.go)
// replaces .machine.install: the install disk is a CEL expression, `provisioning.diskSelector.match`, which
// talosctl gen config writes as `disk.dev_path == "/dev/sda"`. Preflight evaluates that form against the node's
// disks; any other expression is Talos's to evaluate (it does so when the config is applied) and is reported
// as not evaluated, never as a pass it did not earn.
import { parseAllDocuments } from 'yaml';

/** `provisioning.diskSelector.match` of the UnattendedInstallConfig document, if the config has one. */
export function unattendedInstallMatch(text: string): string | undefined {
  const docs = parseAllDocuments(text);
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) return undefined;
    if (doc.get('kind') !== 'UnattendedInstallConfig') continue;
    const match = doc.getIn(['provisioning', 'diskSelector', 'match']);
    return typeof match === 'string' ? match : '';
  }
  return undefined;
}

const DEV_PATH_EQUALS = /^\s*disk\.dev_path\s*==\s*"([^"\\]+)"\s*$/;

export interface UnattendedDiskCheck {
  ok: boolean;
  /** False when the expression is one preflight does not evaluate (the verdict is then Talos's, at apply). */
  evaluated: boolean;
  detail: string;
}

/** Checks the selector against the node's disks (`dev_path` as in Talos's Disks resource). Pure. */
export function checkUnattendedMatch(match: string, disks: { id: string; dev_path?: string }[]): UnattendedDiskCheck {
  if (match.trim() === '') return { ok: false, evaluated: true, detail: 'UnattendedInstallConfig has no provisioning.diskSelector.match' };
  const path = DEV_PATH_EQUALS.exec(match)?.[1];
  if (path === undefined) {
    return { ok: true, evaluated: false, detail: `UnattendedInstallConfig selects the install disk by ${JSON.stringify(match)}: not evaluated here; Talos evaluates it when the config is applied` };
  }
  const disk = disks.find((d) => d.dev_path === path);
  const listed = disks.length === 0 ? 'the node reports no disks' : `the node has: ${disks.map((d) => d.dev_path ?? d.id).join(', ')}`;
  return disk
    ? { ok: true, evaluated: true, detail: `UnattendedInstallConfig installs to ${path}, which is present` }
    : { ok: false, evaluated: true, detail: `UnattendedInstallConfig installs to ${path}, which is not on this node; ${listed}` };
}
