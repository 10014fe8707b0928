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

// Transport failures grpc-js reports with codes other than Unavailable: the call never reached apid or
// its connection broke. talosctl's own retry loops treat these as transient too.
const TRANSPORT_FAILURES = ['connection refused', 'EOF', 'connection reset', 'No connection established', 'ECONNREFUSED', 'ECONNRESET'];

/**
 * Whether a gRPC error is a failure to reach apid or keep the connection, worth another try. Callers
 * that give a code its own meaning (InvalidArgument, ...) decide that first: a message can mention
 * "EOF" for other reasons.
 */
export function isTransportFailure(code: number, message: string): boolean {
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED || code === status.CANCELLED) return true;
  return TRANSPORT_FAILURES.some((m) => message.includes(m));
}

export function classifyBootstrapError(code: number, message: string): BootstrapOutcome {
  switch (code) {
    case status.ALREADY_EXISTS:
      return 'already-exists';
    case status.FAILED_PRECONDITION:
      return 'retry';
    case status.UNIMPLEMENTED:
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return 'wrong-role';
    case status.INVALID_ARGUMENT:
      return 'refuse';
    default:
      return isTransportFailure(code, message) ? 'retry' : 'unknown';
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

/**
 * What an error from EtcdMemberList{query_local:false} says about etcd: nothing. apid answered with an
 * error (`answered-error`) or did not answer (`no-answer`); no code, NotFound and Unavailable included,
 * is known to mean "no etcd cluster exists" (before a bootstrap Talos answers only at the deadline, and a
 * cluster without a leader errors too). Kept apart only for the log's wording; the decision counts
 * neither towards "not bootstrapped".
 */
export type MemberListOutcome = 'answered-error' | 'no-answer';

export function memberListOutcome(code: number): MemberListOutcome {
  const read = classifyReadError(code);
  return read === 'failed' || read === 'not-found' ? 'answered-error' : 'no-answer';
}
