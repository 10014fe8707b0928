// Source 3: the opened LUKS2 mapping of an encrypted STATE, found by walking sysfs from the partition up
// (see dm-walk.ts) and read through dev/mapper/<name>.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { mappingsOver } from '../host/state-partition/dm-walk.ts';
import { detectLuks, locateStatePartition } from '../host/state-partition/locate.ts';
import { configFromDevice } from './device-config.ts';
import type { CredentialSource } from './source.ts';

export const luksMapping: CredentialSource = async (ctx) => {
  const part = locateStatePartition(ctx.paths.stateDevice);
  if (!part.found) return { ok: false, reason: part.reason };
  const enc = detectLuks(part.device);
  if ('error' in enc) return { ok: false, reason: enc.error };
  if (!enc.luks) return { ok: false, reason: `STATE (${part.device}) is not encrypted (no LUKS header), so there is no mapping to read` };
  const walk = mappingsOver(ctx.paths.sysBlock, part.kernelName);
  if ('error' in walk) return { ok: false, reason: `STATE (${part.device}) is LUKS2-encrypted; ${walk.error}` };
  if (walk.mappings.length === 0) {
    return {
      ok: false,
      reason:
        `STATE (${part.device}) is LUKS2-encrypted and no mapping of it is open ` +
        `(none of ${walk.looked} ${join(ctx.paths.sysBlock, 'dm-*')} lists ${part.kernelName} in slaves/)`,
    };
  }
  const reasons: string[] = [];
  for (const m of walk.mappings) {
    const device = join(ctx.paths.mapperDir, m.name);
    if (!existsSync(device)) {
      reasons.push(`${m.dm} is the mapping "${m.name}" of STATE, but ${device} does not exist`);
      continue;
    }
    const out = await configFromDevice(device, ctx);
    if (out.ok) return { ...out, from: `${out.from} (${m.dm}, the opened LUKS2 mapping of ${part.kernelName})` };
    reasons.push(out.reason);
  }
  return { ok: false, reason: reasons.join('; ') };
};
