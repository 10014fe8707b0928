// Benchmarks that start simulated nodes on loopback run in a network namespace of their own, so nothing they
// do can reach a real network and no other run's addresses collide with theirs.
import { spawnSync } from 'bun';

/**
 * Re-runs this script inside a new network namespace with `lo` up (`unshare -n`; needs root) and exits with
 * its exit code; returns at once when already inside one (`marker` set in the environment). `what` names the
 * make target in the error when not root.
 */
export function reexecInNetns(marker: string, what: string): void {
  if (process.env[marker] === '1') return;
  if (process.getuid?.() !== 0) throw new Error(`${what} needs root (unshare -n)`);
  const r = spawnSync(['unshare', '-n', 'bash', '-c', `ip link set lo up && ${marker}=1 exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)], { stdout: 'inherit', stderr: 'inherit', env: process.env });
  process.exit(r.exitCode ?? 1);
}
