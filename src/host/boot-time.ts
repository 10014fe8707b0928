// The local /proc/stat btime, for the log only: the election uses SystemStat from every node's apid,
// self included, so all daemons compare the same numbers from the same source.
import { readFileSync } from 'node:fs';

export function parseBootTime(procStat: string): bigint | undefined {
  const m = /^btime\s+(\d+)\s*$/m.exec(procStat);
  return m ? BigInt(m[1] as string) : undefined;
}

export function readBootTime(procDirs: string[]): bigint | undefined {
  for (const dir of procDirs) {
    try {
      const t = parseBootTime(readFileSync(`${dir}/stat`, 'utf8'));
      if (t !== undefined) return t;
    } catch {
      // try the next candidate
    }
  }
  return undefined;
}
