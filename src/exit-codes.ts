// Process exit codes, as documented in the README. Talos restarts the service on any non-zero code.
export const EXIT = {
  /** Bootstrapped and healthy, joined an existing cluster, a worker, or stopped on request. */
  OK: 0,
  /** Anything else; Talos restarts the service and it tries again. */
  FAILURE: 1,
  /** Invalid configuration: nothing was done. */
  CONFIG: 2,
  /** Refused for safety: evidence of two clusters, or etcd not configured. */
  REFUSED: 3,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
