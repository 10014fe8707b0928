// One OCI bundle per container, run by Debian's runc the way containerd's runc shim runs an extension
// service: machined first overlays the read-only container root so the runtime can create mount points in it
// (services/extension.go PreFunc, mount.NewSystemOverlay), then the runtime starts the process in the spec,
// and machined removes the overlay when the service ends (PostFunc).
//
// The simulated node's host-root fixture is the node as the daemon sees it: the source of the spec mount
// with destination D is <fixture>/D. A source that does not exist is created as an empty 0700 directory,
// as machined's Runner does (os.MkdirAll(mount.Source, 0o700)), except /dev, which every node has: this
// machine's /dev stands in unless the fixture brings its own device directory.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedSeccomp, grantableCapabilities, readServiceSpec, talosExtensionSpec, type OciMount } from './talos-spec.ts';

function run(cmd: string[]): { code: number; out: string; err: string } {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' });
  return { code: p.exitCode ?? -1, out: p.stdout.toString(), err: p.stderr.toString() };
}

function must(cmd: string[]): string {
  const r = run(cmd);
  if (r.code !== 0) throw new Error(`${cmd.join(' ')} failed (${r.code}): ${r.err.trim()}`);
  return r.out;
}

/** runc from Debian, or a clear error saying how to get it. */
export function requireRunc(): string {
  const r = run(['runc', '--version']);
  if (r.code !== 0) throw new Error('runc is missing: apt-get install runc (make test-extension does)');
  return r.out;
}

const CGROUP_PARENT = 'autobootstrap-ext-test';

export interface Container {
  id: string;
  bundle: string;
  /** The argv that runs the container in the foreground; its exit status is the container process's. */
  command: string[];
  /** The generated runtime spec. */
  spec: Record<string, unknown>;
}

/**
 * Bundles under `work`, all run with one runc state directory so cleanup() finds every container, even one a
 * failed test left running.
 */
export class RuncBundles {
  readonly stateDir: string;
  private readonly overlays: string[] = [];
  private readonly ids: string[] = [];

  constructor(
    readonly work: string,
    /** Installed service spec in the built image root. */
    readonly installedSpec: string,
    /** Container root in the built image root (the overlay's lower layer; never written). */
    readonly containerRoot: string,
  ) {
    this.stateDir = join(work, 'runc-state');
    mkdirSync(this.stateDir, { recursive: true });
  }

  /**
   * A bundle for `id`: overlaid root, every spec mount bound from `fixture` (undefined: no node, as for
   * --version), the ExtensionServiceConfig environment `env`, optionally another argv.
   */
  create(id: string, options: { fixture?: string; env?: Record<string, string>; argv?: string[] } = {}): Container {
    const bundle = join(this.work, id);
    const root = join(bundle, 'rootfs');
    for (const d of ['upper', 'overlay-work', 'rootfs', 'missing']) mkdirSync(join(bundle, d), { recursive: true });
    must(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${this.containerRoot},upperdir=${join(bundle, 'upper')},workdir=${join(bundle, 'overlay-work')}`, root]);
    this.overlays.push(root);
    this.ids.push(id);
    const service = readServiceSpec(this.installedSpec);
    if (options.argv) service.container = { ...service.container, entrypoint: options.argv[0]!, args: options.argv.slice(1) };
    let missing = 0;
    const source = (m: OciMount): string => {
      if (options.fixture === undefined) {
        // No node: a fresh empty directory stands in for each host path (/dev: this machine's).
        if (m.destination === '/dev') return '/dev';
        const dir = join(bundle, 'missing', String(++missing));
        mkdirSync(dir, { mode: 0o700 });
        return dir;
      }
      const path = join(options.fixture, m.destination);
      if (existsSync(path)) return path;
      if (m.destination === '/dev') return '/dev';
      mkdirSync(path, { recursive: true, mode: 0o700 });
      return path;
    };
    const capabilities = grantableCapabilities();
    const spec = talosExtensionSpec({
      service,
      rootPath: root,
      source,
      machineEnv: [],
      configEnv: Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`),
      // Relative: runc nests it under its own cgroup (this test's), where Talos uses /system/extensions/NAME.
      cgroupsPath: `${CGROUP_PARENT}/${id}`,
      capabilities,
      oomScoreAdj: capabilities.includes('CAP_SYS_RESOURCE') ? -600 : undefined,
      seccomp: generatedSeccomp().seccomp,
    });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 1));
    return { id, bundle, spec, command: ['runc', '--root', this.stateDir, 'run', '--bundle', bundle, id] };
  }

  /** Kills and deletes every container still known to runc, unmounts every overlay. Returns problems. */
  cleanup(): string[] {
    const problems: string[] = [];
    for (const id of this.ids.splice(0)) {
      const r = run(['runc', '--root', this.stateDir, 'delete', '--force', id]);
      if (r.code !== 0 && !/does not exist|not exist/.test(r.err)) problems.push(`runc delete ${id}: ${r.err.trim()}`);
    }
    for (const root of this.overlays.splice(0)) {
      const r = run(['umount', root]);
      if (r.code !== 0) problems.push(`umount ${root}: ${r.err.trim()}`);
    }
    // The parent cgroup runc made for the relative cgroupsPath, in every hierarchy; empty once deleted.
    const found = run(['find', '/sys/fs/cgroup', '-maxdepth', '5', '-type', 'd', '-name', CGROUP_PARENT]);
    for (const dir of found.out.split('\n').filter(Boolean)) {
      const r = run(['rmdir', dir]);
      if (r.code !== 0) problems.push(`rmdir ${dir}: ${r.err.trim()}`);
    }
    rmSync(this.work, { recursive: true, force: true });
    return problems;
  }
}
