// The kernel's boot_id (/proc/sys/kernel/random/boot_id): a random UUID the kernel draws at every boot. It
// names this boot exactly, where the boot time does not (a node without a real-time clock can boot twice
// at the same wall time before its clock is synced; a clock step moves /proc/stat's btime within one boot).
import { readFileSync } from 'node:fs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The first readable, well-formed boot_id under `procDirs` (each a /proc); undefined when none is. */
export function readBootId(procDirs: string[]): string | undefined {
  for (const dir of procDirs) {
    try {
      const id = readFileSync(`${dir}/sys/kernel/random/boot_id`, 'utf8').trim();
      if (UUID.test(id)) return id;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}
