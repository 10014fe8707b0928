// Does a machine config's install disk exist on the node? The config names either `install.disk` (a device
// path, possibly a /dev/disk/by-* symlink) or `install.diskSelector`; the node lists its disks as
// Disks.block.talos.dev resources. Talos turns the selector into a CEL expression over the disk spec
// (v1alpha1 InstallConfig.DiskMatchExpression); this is the same test, written as a pure function.

/** The fields of a Disks.block.talos.dev spec that selection uses (yaml names of block.DiskSpec). */
export interface DiskInfo {
  id: string;
  dev_path?: string;
  size?: number;
  pretty_size?: string;
  model?: string;
  serial?: string;
  modalias?: string;
  wwid?: string;
  uuid?: string;
  bus_path?: string;
  transport?: string;
  rotational?: boolean;
  readonly?: boolean;
  cdrom?: boolean;
  symlinks?: string[];
}

export interface DiskSelector {
  size?: string | number;
  name?: string;
  model?: string;
  serial?: string;
  modalias?: string;
  uuid?: string;
  wwid?: string;
  type?: string;
  busPath?: string;
}

export const SELECTOR_KEYS = ['size', 'name', 'model', 'serial', 'modalias', 'uuid', 'wwid', 'type', 'busPath'] as const;

export type SizeOp = '>=' | '<=' | '>' | '<' | '==';

// go-humanize's ParseBytes units, which Talos uses for the size condition: SI (kB, MB...) and IEC (KiB...).
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3, kb: 1e3, ki: 2 ** 10, kib: 2 ** 10,
  m: 1e6, mb: 1e6, mi: 2 ** 20, mib: 2 ** 20,
  g: 1e9, gb: 1e9, gi: 2 ** 30, gib: 2 ** 30,
  t: 1e12, tb: 1e12, ti: 2 ** 40, tib: 2 ** 40,
  p: 1e15, pb: 1e15, pi: 2 ** 50, pib: 2 ** 50,
  e: 1e18, eb: 1e18, ei: 2 ** 60, eib: 2 ** 60,
};

/** `>= 1TB`, `4GB`, `<= 2TiB`, `== 500 GB`, or a plain byte count. Undefined when it is none of these. */
export function parseSizeCondition(condition: string | number): { op: SizeOp; bytes: number } | undefined {
  if (typeof condition === 'number') return Number.isFinite(condition) && condition >= 0 ? { op: '==', bytes: condition } : undefined;
  const m = /^\s*(>=|<=|>|<|==)?\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$/.exec(condition);
  if (!m) return undefined;
  const unit = UNITS[(m[3] ?? '').toLowerCase()];
  if (unit === undefined) return undefined;
  const value = Number((m[2] ?? '').replace(/,/g, ''));
  return { op: (m[1] as SizeOp | undefined) ?? '==', bytes: Math.round(value * unit) };
}

/** Talos's glob (ryanuber/go-glob): `*` matches any run of characters, slashes included; nothing else is special. */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const parts = pattern.split('*');
  const first = parts[0] as string;
  const last = parts[parts.length - 1] as string;
  if (!value.startsWith(first)) return false;
  let at = first.length;
  for (const middle of parts.slice(1, -1)) {
    const found = value.indexOf(middle, at);
    if (found < 0) return false;
    at = found + middle.length;
  }
  return value.length - last.length >= at && value.endsWith(last);
}

function compare(op: SizeOp, size: number, bytes: number): boolean {
  switch (op) {
    case '>=':
      return size >= bytes;
    case '<=':
      return size <= bytes;
    case '>':
      return size > bytes;
    case '<':
      return size < bytes;
    default:
      return size === bytes;
  }
}

/** Problems with the selector itself (before any disk is looked at), as Talos would reject it. */
export function selectorProblems(selector: DiskSelector): string[] {
  const problems: string[] = [];
  for (const k of Object.keys(selector)) {
    if (!(SELECTOR_KEYS as readonly string[]).includes(k)) problems.push(`unknown diskSelector key "${k}" (valid: ${SELECTOR_KEYS.join(', ')})`);
  }
  if (selector.size !== undefined && !parseSizeCondition(selector.size)) {
    problems.push(`diskSelector.size "${selector.size}" is not a size condition (expected e.g. "4GB", ">= 1TB", "<= 2TiB")`);
  }
  if (selector.type !== undefined && !['ssd', 'hdd', 'nvme', 'sd'].includes(selector.type)) {
    problems.push(`diskSelector.type "${selector.type}" is not one of ssd, hdd, nvme, sd`);
  }
  // Talos (1.8+) refuses a name selector outright: "selector on name is not supported".
  if (selector.name !== undefined && selector.name !== '') problems.push('diskSelector.name is not supported by Talos; select by model, serial, wwid or busPath instead');
  return problems;
}

/** The selector terms a disk fails, empty when it matches (same terms as Talos's CEL expression). */
export function selectorMismatches(selector: DiskSelector, disk: DiskInfo): string[] {
  const out: string[] = [];
  if (selector.size !== undefined) {
    const cond = parseSizeCondition(selector.size);
    if (!cond || !compare(cond.op, disk.size ?? 0, cond.bytes)) out.push(`size ${disk.pretty_size ?? `${disk.size ?? 0} B`} is not "${selector.size}"`);
  }
  const globs: [keyof DiskSelector, keyof DiskInfo][] = [
    ['uuid', 'uuid'],
    ['wwid', 'wwid'],
    ['model', 'model'],
    ['serial', 'serial'],
    ['modalias', 'modalias'],
    ['busPath', 'bus_path'],
  ];
  for (const [key, field] of globs) {
    const pattern = selector[key];
    if (typeof pattern !== 'string' || pattern === '') continue;
    const value = String(disk[field] ?? '');
    if (!globMatch(pattern, value)) out.push(`${key} "${value}" does not match "${pattern}"`);
  }
  // Talos never installs to a disk without a transport (device-mapper and the like), a read-only one or a CD-ROM.
  if (!disk.transport) out.push('no transport (not a physical disk)');
  switch (selector.type) {
    case 'nvme':
      if (disk.transport !== 'nvme') out.push(`type nvme, but transport is ${disk.transport || 'none'}`);
      break;
    case 'sd':
      if (disk.transport !== 'mmc') out.push(`type sd, but transport is ${disk.transport || 'none'}`);
      break;
    case 'hdd':
      if (!disk.rotational) out.push('type hdd, but the disk is not rotational');
      break;
    case 'ssd':
      if (disk.rotational) out.push('type ssd, but the disk is rotational');
      break;
  }
  if (disk.readonly) out.push('read-only');
  if (disk.cdrom) out.push('a CD-ROM');
  return out;
}

/** install.disk names a disk by its path or by one of its /dev/disk/by-* links. */
export function diskHasPath(disk: DiskInfo, path: string): boolean {
  return disk.dev_path === path || (disk.symlinks ?? []).includes(path) || `/dev/${disk.id}` === path;
}

/** One line per disk, as talosctl get disks would show the fields that selection uses. */
export function describeDisk(d: DiskInfo): string {
  const parts = [
    d.dev_path ?? `/dev/${d.id}`,
    d.pretty_size ?? (d.size !== undefined ? `${d.size} B` : undefined),
    d.model ? `model "${d.model}"` : undefined,
    d.serial ? `serial "${d.serial}"` : undefined,
    d.wwid ? `wwid "${d.wwid}"` : undefined,
    d.transport ? `transport ${d.transport}` : 'no transport',
    d.rotational ? 'rotational' : undefined,
    d.readonly ? 'read-only' : undefined,
    d.cdrom ? 'cdrom' : undefined,
  ];
  return parts.filter((p) => p !== undefined).join(', ');
}

/** `warning`: the selector matched more than one disk; it names the one that will be wiped and the others. */
export type InstallDiskCheck = { ok: true; disk: DiskInfo; detail: string; warning?: string } | { ok: false; detail: string };

/** The install target against the node's disks, explaining both sides when nothing matches. */
export function checkInstallDisk(install: { disk?: string; diskSelector?: DiskSelector }, disks: DiskInfo[]): InstallDiskCheck {
  const listed = disks.length === 0 ? 'the node reports no disks' : `the node has: ${disks.map(describeDisk).join('; ')}`;
  if (install.diskSelector) {
    const problems = selectorProblems(install.diskSelector);
    if (problems.length > 0) return { ok: false, detail: problems.join('; ') };
    const wanted = `diskSelector ${JSON.stringify(install.diskSelector)}`;
    // Talos lists the disks sorted by resource id and installs to the FIRST that matches
    // (blockhelpers.MatchDisks, internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer_tasks.go).
    const sorted = [...disks].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const verdicts = sorted.map((d) => ({ d, why: selectorMismatches(install.diskSelector as DiskSelector, d) }));
    const matches = verdicts.filter((v) => v.why.length === 0).map((v) => v.d);
    const match = matches[0];
    if (match && matches.length > 1) {
      const others = matches.slice(1).map(describeDisk).join('; ');
      return {
        ok: true,
        disk: match,
        detail: `${wanted} selects ${match.dev_path ?? match.id} (${matches.length} disks match)`,
        warning: `${wanted} matches ${matches.length} disks: Talos installs to the first by name, ${describeDisk(match)}, and WIPES it; also matched: ${others}. Narrow the selector (model, serial, wwid or busPath) if that is not the disk you mean`,
      };
    }
    if (match) return { ok: true, disk: match, detail: `${wanted} selects ${match.dev_path ?? match.id}` };
    const why = verdicts.map((v) => `${v.d.dev_path ?? v.d.id}: ${v.why.join(', ')}`).join('; ');
    return { ok: false, detail: `${wanted} matches no disk; ${listed}${why ? ` (${why})` : ''}` };
  }
  if (install.disk) {
    const match = disks.find((d) => diskHasPath(d, install.disk as string));
    if (match) return { ok: true, disk: match, detail: `install.disk ${install.disk} is present` };
    return { ok: false, detail: `install.disk ${install.disk} is not on this node; ${listed}` };
  }
  return { ok: false, detail: `the config sets neither machine.install.disk nor machine.install.diskSelector; ${listed}` };
}
