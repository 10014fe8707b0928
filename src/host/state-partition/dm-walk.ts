// Finds the opened device-mapper targets stacked on a partition by walking sysfs: every
// sys/block/dm-N lists the devices under it in slaves/ and its mapper name in dm/name. This finds a
// LUKS2 mapping whatever Talos named it — `luks2-STATE` (v1.12+) or `<partition>-encrypted` (v1.8–v1.11) —
// without guessing either name.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DmMapping {
  /** Kernel name of the mapped device, e.g. dm-0. */
  dm: string;
  /** Its name under /dev/mapper/. */
  name: string;
}

export type DmWalk = { mappings: DmMapping[]; looked: number } | { error: string };

export function mappingsOver(sysBlock: string, kernelName: string): DmWalk {
  let entries: string[];
  try {
    entries = readdirSync(sysBlock);
  } catch (e) {
    return { error: `cannot list ${sysBlock}: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
  }
  const dms = entries.filter((e) => /^dm-\d+$/.test(e)).sort((a, b) => Number(a.slice(3)) - Number(b.slice(3)));
  const mappings: DmMapping[] = [];
  for (const dm of dms) {
    let slaves: string[];
    let name: string;
    try {
      slaves = readdirSync(join(sysBlock, dm, 'slaves'));
      name = readFileSync(join(sysBlock, dm, 'dm', 'name'), 'utf8').trim();
    } catch {
      continue; // a mapping torn down while we looked, or not a dm device after all
    }
    if (name !== '' && slaves.includes(kernelName)) mappings.push({ dm, name });
  }
  return { mappings, looked: dms.length };
}
