// Real block devices for the STATE tests: image files on loop devices, an XFS filesystem labelled STATE
// holding a config.yaml, and a LUKS-headed stand-in for an encrypted partition. Test-side setup may use
// the system's mount/losetup binaries; the daemon under test never does.
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

function run(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(' ')} failed (${p.exitCode}): ${p.stderr.toString().trim()}`);
  return p.stdout.toString().trim();
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/**
 * Root-only tests run wherever they can; outside CI a non-root run skips them, in CI (which runs as root)
 * nothing may be skipped, so a non-root CI run fails instead.
 */
export function rootTestsMode(): 'run' | 'skip' | 'fail' {
  if (isRoot()) return 'run';
  return process.env.CI ? 'fail' : 'skip';
}

/** Every loop device and image made here, for afterAll. */
export class BlockDevices {
  readonly dir: string;
  private readonly loops: string[] = [];
  private readonly holds: string[] = [];
  private made = 0;

  constructor(parent: string) {
    this.dir = mkdtempSync(join(parent, 'ab-blk-'));
  }

  /** A sparse image with an XFS filesystem labelled `label`, holding `files`, attached to a loop device. */
  xfs(name: string, files: Record<string, string>, label = 'STATE'): string {
    const image = join(this.dir, `${name}.img`);
    // 300 MiB is mkfs.xfs's minimum; the file stays sparse.
    run(['truncate', '-s', '300M', image]);
    run(['mkfs.xfs', '-q', '-f', '-L', label, image]);
    const dev = this.attach(image);
    const mnt = join(this.dir, `${name}.fill`);
    mkdirSync(mnt);
    run(['mount', '-t', 'xfs', dev, mnt]);
    try {
      for (const [file, content] of Object.entries(files)) writeFileSync(join(mnt, file), content, { mode: 0o600 });
    } finally {
      run(['umount', mnt]);
      rmSync(mnt, { recursive: true });
    }
    return dev;
  }

  /** A small device starting with a LUKS2 header's magic: an encrypted STATE as the kernel shows it before it is opened. */
  luks(name: string): string {
    const image = join(this.dir, `${name}.img`);
    const fd = openSync(image, 'w');
    const header = Buffer.alloc(1 << 20);
    Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe, 0x00, 0x02]).copy(header);
    writeSync(fd, header);
    closeSync(fd);
    return this.attach(image);
  }

  /** Mounts a device read-write elsewhere, as machined does while it holds STATE; a read-only mount then gets EBUSY. */
  hold(dev: string): string {
    const mnt = join(this.dir, `hold-${++this.made}`);
    mkdirSync(mnt);
    run(['mount', '-t', 'xfs', dev, mnt]);
    this.holds.push(mnt);
    return mnt;
  }

  release(mnt: string): void {
    run(['umount', mnt]);
    this.holds.splice(this.holds.indexOf(mnt), 1);
  }

  private attach(image: string): string {
    const dev = run(['losetup', '--find', '--show', image]);
    this.loops.push(dev);
    return dev;
  }

  /** Unmounts what is held, detaches every loop device, deletes every image. Never throws. */
  cleanup(): string[] {
    const problems: string[] = [];
    for (const mnt of this.holds.splice(0)) {
      try {
        run(['umount', mnt]);
      } catch (e) {
        problems.push(String(e));
      }
    }
    for (const dev of this.loops.splice(0)) {
      try {
        run(['losetup', '--detach', dev]);
      } catch (e) {
        problems.push(String(e));
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    return problems;
  }
}

/** Mount points in this mount namespace whose path contains `fragment` (the daemon shares it). */
export function mountsUnder(fragment: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.includes(fragment));
}

/** Mount lines whose source is `dev`. */
export function mountsOf(dev: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => {
      const sep = line.indexOf(' - ');
      return sep >= 0 && line.slice(sep + 3).split(' ')[1] === dev;
    });
}
