// What a gRPC error from apid means for the daemon. Pure: code and message in, meaning out.
import { status } from '@grpc/grpc-js';

export type BootstrapOutcome =
  /** The local etcd data directory is not empty: re-check, this node may already hold the cluster. */
  | 'already-exists'
  /** Not ready yet or not reachable: back off and try again after a fresh check. */
  | 'retry'
  /** Not a control plane, or our credentials lack the role: the role was misdetected. */
  | 'wrong-role'
  /** etcd is not configured on this node: bootstrapping it can never work. */
  | 'refuse'
  /** The call may have done something (Talos reports failures after it starts etcd as Unknown). */
  | 'unknown';

// talosctl's own bootstrapper retries on these messages too when they arrive with another code.
const TRANSIENT_MESSAGES = ['connection refused', 'EOF', 'connection reset'];

export function classifyBootstrapError(code: number, message: string): BootstrapOutcome {
  switch (code) {
    case status.ALREADY_EXISTS:
      return 'already-exists';
    case status.FAILED_PRECONDITION:
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return 'retry';
    case status.UNIMPLEMENTED:
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return 'wrong-role';
    case status.INVALID_ARGUMENT:
      return 'refuse';
    default:
      return TRANSIENT_MESSAGES.some((m) => message.includes(m)) ? 'retry' : 'unknown';
  }
}

export type ReadOutcome =
  /** No answer: transport failure or deadline. Says nothing about the node's state. */
  | 'no-answer'
  /** The node refused our credentials for this call. */
  | 'denied'
  | 'not-found'
  /** The node answered with an error. */
  | 'failed';

export function classifyReadError(code: number): ReadOutcome {
  switch (code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
    case status.CANCELLED:
      return 'no-answer';
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return 'denied';
    case status.NOT_FOUND:
      return 'not-found';
    default:
      return 'failed';
  }
}

export function codeName(code: number): string {
  return (status as unknown as Record<number, string>)[code] ?? `code ${code}`;
}
