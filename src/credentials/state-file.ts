// Source 1: system/state/config.yaml. Talos up to v1.11 keeps STATE mounted at /system/state, and the
// service spec may bind it into the container.
import { readFileSync } from 'node:fs';
import { parseMachineConfigBytes } from '../pki/config-bytes.ts';
import { describeFailure } from './describe.ts';
import type { CredentialSource } from './source.ts';

export const stateFile: CredentialSource = async (ctx) => {
  const path = ctx.paths.stateConfig;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: `${path} does not exist (STATE is not kept mounted on Talos v1.12+)` };
    return { ok: false, reason: `cannot read ${path}: ${code ?? String(e)}` };
  }
  try {
    return { ok: true, facts: parseMachineConfigBytes(bytes, path), from: path };
  } catch (e) {
    return { ok: false, reason: describeFailure(e) };
  }
};
