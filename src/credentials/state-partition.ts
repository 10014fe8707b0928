// Source 2: the STATE partition itself, mounted read-only for the moment it takes to read config.yaml.
// Talos v1.12+ mounts STATE only briefly and privately, so on those versions this is how the config is read.
import { detectLuks, locateStatePartition } from '../host/state-partition/locate.ts';
import { configFromDevice } from './device-config.ts';
import type { CredentialSource } from './source.ts';

export const statePartition: CredentialSource = async (ctx) => {
  const part = locateStatePartition(ctx.paths.stateDevice);
  if (!part.found) return { ok: false, reason: part.reason };
  const enc = detectLuks(part.device);
  if ('error' in enc) return { ok: false, reason: enc.error };
  if (enc.luks) return { ok: false, reason: `STATE (${part.device}) is LUKS2-encrypted; only its opened mapping can be read` };
  return configFromDevice(part.device, ctx);
};
