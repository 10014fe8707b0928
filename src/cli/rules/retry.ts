// What a failed ApplyConfiguration means and when to try again. Pure: codes and policies in, decisions out.
import { status } from '@grpc/grpc-js';
import { backoffDelay } from '../../bootstrap/core/backoff.ts';
import { codeName, isTransportFailure } from '../../talos/error-class.ts';

export interface RetryPolicy {
  /** Delay before the first retry. */
  initialMs: number;
  factor: number;
  maxMs: number;
  /** Retries after the first attempt; 0 means one attempt only. */
  retries: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 3_000, factor: 2, maxMs: 60_000, retries: 5 };

/**
 * The delays before retry 1..n. The daemon's backoff without its jitter: jitter spreads many daemons
 * that retry together; one operator's command gains nothing from it, and a schedule printed up front
 * should be the schedule that runs.
 */
export function retrySchedule(policy: RetryPolicy): number[] {
  const p = { initialMs: policy.initialMs, maxMs: policy.maxMs, factor: policy.factor };
  return Array.from({ length: policy.retries }, (_, attempt) => backoffDelay(p, attempt, () => 1));
}

export type ApplyErrorKind = 'transient' | 'permanent';

export interface ApplyErrorVerdict {
  kind: ApplyErrorKind;
  /** What went wrong, in words. */
  reason: string;
  /** What the operator should do if this is the last word. */
  fix: string;
}

const ALREADY_CONFIGURED_FIX = 'the node is not in maintenance mode (it already has a config): change it with talosctl apply-config and admin credentials, or reset it to maintenance';

/** What a call that ran out of its deadline asks of the operator. */
export const SLOW_FIX = 'on a slow network raise --call-timeout (each look at a node waits that long, ApplyConfiguration the longer of it and 30s)';

/** A node that already had its config before apply sent it (insecure calls to it fail at the handshake). */
export function alreadyConfigured(detail: string): ApplyErrorVerdict {
  return { kind: 'permanent', reason: `the node is not in maintenance mode: it already has a config (${detail})`, fix: ALREADY_CONFIGURED_FIX };
}

export function classifyApplyError(code: number, message: string): ApplyErrorVerdict {
  const said = `${codeName(code)}: ${message}`;
  switch (code) {
    case status.DEADLINE_EXCEEDED:
      // Nothing refused it: the node may only be slow (apply's deadlines: commands/apply.ts applyOptions).
      return { kind: 'transient', reason: said, fix: `${SLOW_FIX}; else check that the node is powered on, booted from the Talos ISO/PXE, and reachable on TCP 50000 from here` };
    case status.UNAVAILABLE:
    case status.CANCELLED:
    case status.ABORTED:
    case status.RESOURCE_EXHAUSTED:
      return { kind: 'transient', reason: said, fix: 'check that the node is powered on, booted from the Talos ISO/PXE, and reachable on TCP 50000 from here' };
    case status.INVALID_ARGUMENT:
      return { kind: 'permanent', reason: `the node refused the config (${said})`, fix: 'fix the machine config file (talosctl validate --mode metal -c FILE), then re-run apply for this node' };
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return { kind: 'permanent', reason: `not allowed (${said})`, fix: ALREADY_CONFIGURED_FIX };
    case status.UNIMPLEMENTED:
      return { kind: 'permanent', reason: `not supported by this node (${said})`, fix: 'the node runs an unexpected Talos version or is not Talos; check talosctl version --insecure' };
    default:
      // Only codes apid itself never chose are read for transport failures ("unexpected EOF" in an
      // InvalidArgument is about the config, not the connection).
      if (isTransportFailure(code, message)) return { kind: 'transient', reason: said, fix: 'check that the node is powered on and reachable on TCP 50000 from here' };
      return { kind: 'permanent', reason: said, fix: 'read the message above; re-run apply for this node once it is fixed' };
  }
}
