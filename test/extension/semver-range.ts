// Talos's compatibility check for `compatibility.talos.version`: a 'v' before a digit is dropped, then the
// string is a blang/semver range (comparators joined by spaces = AND, groups joined by || = OR), and it is
// evaluated against the running Talos version without pre-release or build (pkg/machinery/extensions/
// validate.go). This reproduces that grammar minus x-wildcards, which the manifest does not use.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
}

const VERSION_RE = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$/;

export function parseVersion(text: string): Version {
  const m = VERSION_RE.exec(text);
  if (!m) throw new Error(`"${text}" is not a semantic version (major.minor.patch)`);
  const pre = m[4] ? m[4].split('.') : [];
  if (pre.some((id) => /^0\d+$/.test(id))) throw new Error(`"${text}": numeric pre-release identifiers must not have leading zeros`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre };
}

function comparePre(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return (a.length === 0 ? 1 : 0) - (b.length === 0 ? 1 : 0);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined) return x === undefined ? -1 : 1;
    const xn = /^\d+$/.test(x);
    const yn = /^\d+$/.test(y);
    if (xn && yn && Number(x) !== Number(y)) return Number(x) < Number(y) ? -1 : 1;
    if (xn !== yn) return xn ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

export function compareVersions(a: Version, b: Version): number {
  for (const k of ['major', 'minor', 'patch'] as const) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return comparePre(a.pre, b.pre);
}

const OPS: Record<string, (c: number) => boolean> = {
  '': (c) => c === 0,
  '=': (c) => c === 0,
  '==': (c) => c === 0,
  '!': (c) => c !== 0,
  '!=': (c) => c !== 0,
  '>': (c) => c > 0,
  '>=': (c) => c >= 0,
  '<': (c) => c < 0,
  '<=': (c) => c <= 0,
};

/** Drops a 'v' that stands right before a digit, anywhere in the string (Talos's trim()). */
export function trimV(constraint: string): string {
  return constraint.replace(/v(?=\d)/g, '');
}

/** Parses a constraint as Talos does; throws on anything Talos would reject. */
export function parseTalosRange(constraint: string): (talosVersion: string) => boolean {
  const text = trimV(constraint);
  // An operator may be separated from its version by spaces (">= 1.7.0"): glue them first.
  const tokens = text.replace(/([<>=!])\s+(?=[\d<>=!])/g, '$1').split(/\s+/).filter((t) => t !== '');
  if (tokens.length === 0) throw new Error('empty range');
  const groups: string[][] = [[]];
  for (const t of tokens) {
    if (t === '||') groups.push([]);
    else groups[groups.length - 1]!.push(t);
  }
  if (groups.some((g) => g.length === 0)) throw new Error(`"${constraint}": '||' must stand between two ranges`);
  const alternatives = groups.map((group) =>
    group.map((part) => {
      const at = part.search(/\d/);
      if (at < 0) throw new Error(`"${part}": no version`);
      const op = part.slice(0, at);
      const test = OPS[op];
      if (!test) throw new Error(`"${part}": unknown comparator "${op}"`);
      if (part.includes('.x')) throw new Error(`"${part}": x-wildcards are not used here`);
      const bound = parseVersion(part.slice(at));
      return (v: Version) => test(compareVersions(v, bound));
    }),
  );
  return (talosVersion: string) => {
    const full = parseVersion(trimV(talosVersion));
    const core: Version = { ...full, pre: [] };
    return alternatives.some((all) => all.every((check) => check(core)));
  };
}
