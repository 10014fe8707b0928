// The one version form, everywhere: `autobootstrap --version`, the `start` log line, and the extension
// manifest that `talosctl get extensions` shows. It is the build stamp (`git describe --always --dirty`,
// passed in by `bun build --define AUTOBOOTSTRAP_BUILD=...`) and package.json's version, normalised to a
// semantic version with a leading v:
//   v1.2.3            -> v1.2.3              (a release tag)
//   v1.2.3-4-gabc1234 -> v1.2.3-4-gabc1234   (commits after a tag: a pre-release of that tag's line)
//   abc1234           -> v0.1.0-gabc1234     (no tag yet: package.json's version plus the commit)
//   any of them -dirty -> ... .dirty         (uncommitted changes, kept visible)
//   no stamp          -> v0.1.0-unknown      (run from source, e.g. bun src/main.ts)
import pkg from '../package.json' with { type: 'json' };

declare const AUTOBOOTSTRAP_BUILD: string | undefined;

const SEMVER = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?$/;

/** The semantic version for a build stamp; throws when `packageVersion` is not semantic itself. */
export function semanticVersion(describe: string, packageVersion: string): string {
  let stamp = describe.trim();
  const dirty = stamp.endsWith('-dirty');
  if (dirty) stamp = stamp.slice(0, -'-dirty'.length);
  let version: string;
  const tagged = SEMVER.exec(stamp);
  if (tagged) {
    version = `v${tagged[1]}.${tagged[2]}.${tagged[3]}${tagged[4] ? `-${tagged[4]}` : ''}`;
  } else {
    const base = SEMVER.exec(packageVersion);
    if (!base) throw new Error(`package.json version ${JSON.stringify(packageVersion)} is not a semantic version`);
    const commit = /^[0-9a-f]{4,40}$/.test(stamp) ? `g${stamp}` : 'unknown';
    version = `v${base[1]}.${base[2]}.${base[3]}-${commit}`;
  }
  if (dirty) version += version.includes('-') ? '.dirty' : '-dirty';
  return version;
}

/** A version as Talos users will see it: semantic, with a leading v. */
export function isSemanticVersion(v: string): boolean {
  if (!v.startsWith('v')) return false;
  const m = SEMVER.exec(v);
  if (!m) return false;
  // Pre-release identifiers: non-empty, and numeric ones without leading zeros (semver 2.0.0, item 9).
  return (m[4] ?? '').split('.').every((id, _, all) => (all.length === 1 && id === '') || (id !== '' && !/^0\d+$/.test(id)));
}

function buildStamp(): string {
  try {
    return typeof AUTOBOOTSTRAP_BUILD === 'string' && AUTOBOOTSTRAP_BUILD !== '' ? AUTOBOOTSTRAP_BUILD : 'unknown';
  } catch {
    return 'unknown';
  }
}

export const VERSION: string = semanticVersion(buildStamp(), pkg.version);
