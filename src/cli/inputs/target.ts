// One node the operator commands act on: where it is and which machine config it gets.
export interface NodeTarget {
  /** The address dialled on :50000 (what talosctl calls a node). */
  address: string;
  /** Path of the machine config file for this node; absent for verify/status given only addresses. */
  file?: string;
  /** Display name; the address when none is given. */
  name: string;
  /**
   * --cert-fingerprint values from its talhelper line (base64 SHA-256 of the server certificate's SPKI): the
   * maintenance-mode server must present one of them, or nothing is sent to it (as talosctl enforces them).
   */
  certFingerprints?: string[];
}
