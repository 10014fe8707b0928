// Runs the extension's binary the way Talos runs ext-autobootstrap, as far as one machine can: inside its
// own container root (chroot: no host file, no host library), with that root read-only, a fresh /proc, and
// the service spec's mounts. Each run gets a private mount namespace (unshare --mount), so every mount
// disappears with the process, even when a test dies half-way.
//
// What a mount binds: the simulated node's host-root fixture is the node as the daemon sees it, so the
// source of the spec mount with destination D is <fixture>/D. Where the fixture has nothing there, Talos's
// behaviour is copied: it creates a missing source as an empty directory (machined's MkdirAll), except
// /dev, which every node has (this machine's /dev, read-only, stands in).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { SPEC_SOURCE } from './build-outputs.ts';

export interface SpecMount {
  source: string;
  destination: string;
  options: string[];
}

export interface ServiceSpec {
  entrypoint: string;
  args: string[];
  mounts: SpecMount[];
}

export function serviceSpec(): ServiceSpec {
  const spec = parse(readFileSync(SPEC_SOURCE, 'utf8')) as { container: { entrypoint: string; args?: string[]; mounts: SpecMount[] } };
  return { entrypoint: spec.container.entrypoint, args: spec.container.args ?? [], mounts: spec.container.mounts };
}

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The argv that starts `argv` (default: the spec's entrypoint and args) inside `containerRoot`.
 * `fixture` is the simulated node's host root (undefined: no node, e.g. for --version); `scratch` holds
 * the empty directories that stand in for missing sources.
 */
export function containerCommand(options: { containerRoot: string; fixture?: string; scratch: string; argv?: string[] }): string[] {
  const spec = serviceSpec();
  const ctr = options.containerRoot;
  const lines = [
    'set -eu',
    // The container root is read-only, as Talos mounts it.
    `mount --bind ${q(ctr)} ${q(ctr)}`,
    `mount -o remount,bind,ro ${q(ctr)}`,
    `mount -t proc -o nosuid,nodev,noexec proc ${q(join(ctr, 'proc'))}`,
  ];
  if (options.fixture !== undefined) {
    spec.mounts.forEach((m, i) => {
      let source = join(options.fixture!, m.destination);
      if (!existsSync(source) && m.destination === '/dev') {
        source = '/dev';
      } else if (!existsSync(source)) {
        source = join(options.scratch, `missing-source-${i}`);
        mkdirSync(source, { recursive: true, mode: 0o700 });
      }
      const target = join(ctr, m.destination);
      lines.push(`mount --bind ${q(source)} ${q(target)}`);
      const flags = ['ro', 'nosuid', 'nodev', 'noexec'].filter((f) => m.options.includes(f));
      if (flags.length > 0) lines.push(`mount -o ${['remount', 'bind', ...flags].join(',')} ${q(target)}`);
    });
  }
  const argv = options.argv ?? [spec.entrypoint, ...spec.args];
  lines.push(`exec chroot ${q(ctr)} ${argv.map(q).join(' ')}`);
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', lines.join('\n')];
}

/** Every file of the fixture lies under a spec mount destination: the spec serves all the daemon reads. */
export function uncoveredFixturePaths(fixture: string, files: string[]): string[] {
  const destinations = serviceSpec().mounts.map((m) => m.destination);
  return files.filter((f) => !destinations.some((d) => `/${f}`.startsWith(`${d}/`))).map((f) => join(fixture, f));
}
