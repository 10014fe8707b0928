// The compiled daemon refuses to keep agreement state where a reboot loses it: a host whose /var is still a
// tmpfs (EPHEMERAL not mounted yet), or whose mount table cannot be read, makes it exit non-zero (Talos
// restarts the service) with one error naming the state directory, what was found and what is expected.
import { afterEach, describe, expect, test } from 'bun:test';
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { splitDev } from '../../src/agreement/storage/on-ephemeral.ts';
import { join } from 'node:path';
import { EXIT } from '../../src/exit-codes.ts';
import { startCluster, type Harness } from './cluster-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Before EPHEMERAL is mounted: /var a tmpfs, and the container's bind mount on that same tmpfs (same device). */
function tmpfsVar(p: string): void {
  const { major, minor } = splitDev(statSync(join(p, '..'), { bigint: true }).dev);
  writeFileSync(p, `22 1 7:0 / / ro,relatime shared:1 - squashfs /dev/loop0 ro\n30 22 ${major}:${minor} / /var rw,relatime - tmpfs tmpfs rw\n`);
}

describe('agreement state placement (compiled daemon)', () => {
  for (const c of [
    { name: 'a tmpfs /var holding the state directory', write: tmpfsVar, found: '/var (tmpfs' },
    { name: 'no readable host mount table', write: (p: string) => rmSync(p, { force: true }), found: 'cannot read' },
  ]) {
    test(`${c.name}: exit ${EXIT.FAILURE}, the error names the path and the expectation, no Bootstrap`, async () => {
      h = await startCluster({ subnet: '127.0.198', quorum: 1, nodes: [{ name: 'cp1', host: 1, type: 'controlplane' }] });
      const root = h.sim.hostRoot('cp1') as string;
      c.write(join(root, 'host/proc/1/mountinfo'));
      const d = h.daemon('cp1', { TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: '0s' });
      expect(await d.exitWithin(30_000)).toBe(EXIT.FAILURE);
      const line = d.events('agreement-state-misplaced')[0];
      expect(line?.level).toBe('error');
      expect(line?.msg).toContain(join(root, 'var/lib/autobootstrap'));
      expect(line?.msg).toContain(c.found);
      expect(line?.msg).toContain('EPHEMERAL');
      expect(h.sim.bootstrapCalls()).toEqual([]);
    }, 60_000);
  }
});
