// etcd member and cluster ids are uint64s; Talos's API carries them as numbers (decimal strings here, so no
// precision is lost), and talosctl prints them as 16 hex digits (`talosctl etcd members`). Every output of
// this project shows them that one way.

/** "9223372036854775809" → "8000000000000001": a decimal uint64 string as talosctl's 16 hex digits. */
export function hexMemberId(id: string): string {
  return BigInt(id).toString(16).padStart(16, '0');
}
