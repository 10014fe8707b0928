// Applies one node's config with retries, then waits to see it leave maintenance. The I/O is passed in,
// so tests drive it with fakes and read the delays it asked for instead of timing it.
import type { ApplyReply } from '../../talos/node-client.ts';
import { mapBounded } from '../../util/bounded.ts';
import { formatDuration } from '../../util/duration.ts';
import { TalosCallError } from '../../talos/node-client.ts';
import { status } from '@grpc/grpc-js';
import { codeName } from '../../talos/error-class.ts';
import type { NodeProbe } from '../nodes/identify-node.ts';
import { FingerprintMismatch } from '../nodes/fingerprint.ts';
import { alreadyConfigured, classifyApplyError, retrySchedule, SLOW_FIX, type ApplyErrorVerdict, type RetryPolicy } from './retry.ts';
import type { NodeTarget } from '../inputs/target.ts';

export interface AttemptRecord {
  attempt: number;
  ok: boolean;
  code?: string;
  error?: string;
  kind?: 'transient' | 'permanent';
  /** Delay before the next attempt, when there is one. */
  retryInMs?: number;
}

export interface NodeApplyResult {
  name: string;
  address: string;
  file: string;
  ok: boolean;
  attempts: AttemptRecord[];
  modeDetails?: string;
  warnings?: string[];
  /** How the node was seen leaving maintenance. */
  leftMaintenance?: string;
  /** An attempt's reply was lost, yet the node came back configured with this config's CA. */
  replyLost?: boolean;
  reason?: string;
  fix?: string;
  /** Another address of the node configured through this one (the same server certificate answers on both). */
  sameNodeAs?: string;
}

export type LeaveCheck = { ok: true; detail: string } | { ok: false; detail: string };

export interface ApplyDeps {
  apply(target: NodeTarget, data: Buffer): Promise<ApplyReply>;
  /** What the node is now (a failed call says nothing about that); `configured` means with this config's CA. */
  identify(target: NodeTarget): Promise<NodeProbe>;
  sleep(ms: number): Promise<void>;
  waitLeftMaintenance(target: NodeTarget): Promise<LeaveCheck>;
  progress(target: NodeTarget, text: string): void;
}

function errorParts(e: unknown): { code: number; message: string } {
  if (e instanceof TalosCallError) return { code: e.code, message: e.details };
  return { code: status.UNKNOWN, message: e instanceof Error ? e.message : String(e) };
}

/**
 * A transient failure says nothing about the node, so it is looked at. Configured with this config's CA
 * after an earlier attempt failed transiently: that attempt was accepted and only its reply was lost.
 * Configured without such an attempt: it had a config before, and apply must not retry.
 */
async function judgeFailure(target: NodeTarget, verdict: ApplyErrorVerdict, earlierTransient: boolean, deps: ApplyDeps): Promise<ApplyErrorVerdict | 'accepted'> {
  if (verdict.kind !== 'transient') return verdict;
  const seen = await deps.identify(target);
  if (seen.kind === 'configured') return earlierTransient ? 'accepted' : alreadyConfigured(seen.detail);
  if (seen.kind === 'unknown') return { ...verdict, reason: `${verdict.reason}; the node is ${seen.detail}`, ...(seen.slow ? { fix: `${SLOW_FIX}; else ${verdict.fix}` } : {}) };
  return verdict;
}

/** The server is not the one --cert-fingerprint names: nothing was sent, and retrying would not change it. */
function fingerprintRefusal(message: string): ApplyErrorVerdict {
  return {
    kind: 'permanent',
    reason: `not sent: ${message}`,
    fix: "check that the address is the node you mean: its console (maintenance mode) prints its certificate fingerprint; a node that rebooted has a new one, so update --cert-fingerprint",
  };
}

export async function applyNode(target: NodeTarget, data: Buffer, policy: RetryPolicy, deps: ApplyDeps): Promise<NodeApplyResult> {
  const schedule = retrySchedule(policy);
  const result: NodeApplyResult = { name: target.name, address: target.address, file: target.file ?? '', ok: false, attempts: [] };
  let earlierTransient = false;
  for (let attempt = 1; ; attempt++) {
    deps.progress(target, attempt === 1 ? 'applying config (mode auto)' : `applying config, attempt ${attempt}/${schedule.length + 1}`);
    try {
      const reply = await deps.apply(target, data);
      result.attempts.push({ attempt, ok: true });
      result.modeDetails = reply.modeDetails;
      result.warnings = reply.warnings;
      break;
    } catch (e) {
      const { code, message } = errorParts(e);
      const judged = e instanceof FingerprintMismatch ? fingerprintRefusal(message) : await judgeFailure(target, classifyApplyError(code, message), earlierTransient, deps);
      const record: AttemptRecord = { attempt, ok: false, code: codeName(code), error: message, kind: judged === 'accepted' ? 'transient' : judged.kind };
      result.attempts.push(record);
      if (judged === 'accepted') {
        result.replyLost = true;
        deps.progress(target, `attempt ${attempt} failed (${codeName(code)}: ${message}), but the node now has this config: accepted (reply lost)`);
        break;
      }
      const delay = schedule[attempt - 1];
      if (judged.kind === 'permanent' || delay === undefined) {
        result.reason =
          judged.kind === 'permanent' ? judged.reason : `still failing after ${attempt} attempt${attempt === 1 ? '' : 's'} (last: ${judged.reason})`;
        result.fix = judged.fix;
        deps.progress(target, `FAILED: ${result.reason}`);
        return result;
      }
      earlierTransient = true;
      record.retryInMs = delay;
      deps.progress(target, `attempt ${attempt} failed (${judged.reason}); retrying in ${formatDuration(delay)}`);
      await deps.sleep(delay);
    }
  }
  deps.progress(target, result.replyLost ? 'config accepted (reply lost); waiting for the node to leave maintenance' : 'config accepted; waiting for the node to leave maintenance');
  const left = await deps.waitLeftMaintenance(target);
  if (!left.ok) {
    result.reason = `config accepted, but the node was not seen leaving maintenance: ${left.detail}`;
    result.fix = 'watch the node console; if it is still in maintenance, re-run apply for it';
    deps.progress(target, `FAILED: ${result.reason}`);
    return result;
  }
  result.ok = true;
  result.leftMaintenance = left.detail;
  const retries = result.attempts.length - 1;
  const retried = retries > 0 ? ` after ${retries} retr${retries === 1 ? 'y' : 'ies'}` : '';
  deps.progress(target, `configured${retried}${result.replyLost ? ' (reply lost)' : ''}; ${left.detail}`);
  return result;
}

/** Every node, at most `parallel` at a time; one node's failure never stops or hides another's. */
export async function applyAll(
  items: { target: NodeTarget; data: Buffer }[],
  parallel: number,
  policy: RetryPolicy,
  deps: ApplyDeps,
): Promise<NodeApplyResult[]> {
  return mapBounded(items, parallel, async (item) => {
    try {
      return await applyNode(item.target, item.data, policy, deps);
    } catch (e) {
      return {
        name: item.target.name,
        address: item.target.address,
        file: item.target.file ?? '',
        ok: false,
        attempts: [],
        reason: `unexpected failure: ${e instanceof Error ? e.message : String(e)}`,
        fix: 're-run apply for this node',
      };
    }
  });
}
