// Applies one node's config with retries, then waits to see it leave maintenance. The I/O is passed in,
// so tests drive it with fakes and read the delays it asked for instead of timing it.
import type { ApplyReply } from '../talos/node-client.ts';
import { mapBounded } from '../util/bounded.ts';
import { TalosCallError } from '../talos/node-client.ts';
import { status } from '@grpc/grpc-js';
import { codeName } from '../talos/error-class.ts';
import { classifyApplyError, retrySchedule, type RetryPolicy } from './retry.ts';
import type { NodeTarget } from './target.ts';

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
  reason?: string;
  fix?: string;
}

export type LeaveCheck = { ok: true; detail: string } | { ok: false; detail: string };

export interface ApplyDeps {
  apply(target: NodeTarget, data: Buffer): Promise<ApplyReply>;
  sleep(ms: number): Promise<void>;
  waitLeftMaintenance(target: NodeTarget): Promise<LeaveCheck>;
  progress(target: NodeTarget, text: string): void;
}

function errorParts(e: unknown): { code: number; message: string } {
  if (e instanceof TalosCallError) return { code: e.code, message: e.details };
  return { code: status.UNKNOWN, message: e instanceof Error ? e.message : String(e) };
}

export async function applyNode(target: NodeTarget, data: Buffer, policy: RetryPolicy, deps: ApplyDeps): Promise<NodeApplyResult> {
  const schedule = retrySchedule(policy);
  const result: NodeApplyResult = { name: target.name, address: target.address, file: target.file ?? '', ok: false, attempts: [] };
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
      const verdict = classifyApplyError(code, message);
      const record: AttemptRecord = { attempt, ok: false, code: codeName(code), error: message, kind: verdict.kind };
      result.attempts.push(record);
      const delay = schedule[attempt - 1];
      if (verdict.kind === 'permanent' || delay === undefined) {
        result.reason =
          verdict.kind === 'permanent'
            ? verdict.reason
            : `still failing after ${attempt} attempt${attempt === 1 ? '' : 's'} (last: ${verdict.reason})`;
        result.fix = verdict.fix;
        deps.progress(target, `FAILED: ${result.reason}`);
        return result;
      }
      record.retryInMs = delay;
      deps.progress(target, `attempt ${attempt} failed (${verdict.reason}); retrying in ${formatMs(delay)}`);
      await deps.sleep(delay);
    }
  }
  deps.progress(target, 'config accepted; waiting for the node to leave maintenance');
  const left = await deps.waitLeftMaintenance(target);
  if (!left.ok) {
    result.reason = `config accepted, but the node was not seen leaving maintenance: ${left.detail}`;
    result.fix = 'watch the node console; if it is still in maintenance, re-run apply for it';
    deps.progress(target, `FAILED: ${result.reason}`);
    return result;
  }
  result.ok = true;
  result.leftMaintenance = left.detail;
  const retried = result.attempts.length > 1 ? ` after ${result.attempts.length - 1} retr${result.attempts.length === 2 ? 'y' : 'ies'}` : '';
  deps.progress(target, `configured${retried}; ${left.detail}`);
  return result;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${Number((ms / 1000).toFixed(1))}s`;
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
