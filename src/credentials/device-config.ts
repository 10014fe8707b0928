// The machine config read from a block device holding STATE's XFS filesystem (the partition itself, or
// the opened LUKS2 mapping of it). Shared by sources 2 and 3.
import { readFileFromDevice } from '../host/mount/read-from-device.ts';
import { errnoName } from '../host/mount/syscalls.ts';
import { parseMachineConfigBytes } from '../pki/config-bytes.ts';
import { describeFailure } from './describe.ts';
import type { SourceContext, SourceOutcome } from './source.ts';

export async function configFromDevice(device: string, ctx: SourceContext): Promise<SourceOutcome> {
  const read = await readFileFromDevice(
    { device, fsType: 'xfs', file: 'config.yaml', runDir: ctx.paths.privateRun, retryBudgetMs: ctx.mountRetryBudgetMs },
    {
      sys: ctx.sys,
      sleep: ctx.sleep,
      signal: ctx.signal,
      random: ctx.random,
      onRetry: ({ attempt, errno, reason, delayMs }) =>
        ctx.note('state-mount-retry', `${reason}; transient, retrying in ${delayMs} ms (attempt ${attempt})`, { device, errno: errnoName(errno), attempt, delayMs }),
      onCleanupProblem: (problem) => ctx.note('state-mount-cleanup-failed', problem, { device }, 'error'),
    },
  );
  if (!read.ok) return { ok: false, reason: read.reason };
  const what = `config.yaml on ${device}`;
  try {
    return { ok: true, facts: parseMachineConfigBytes(read.bytes, what), from: what };
  } catch (e) {
    return { ok: false, reason: describeFailure(e) };
  }
}
