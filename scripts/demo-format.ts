// How the demo shows times and IDs: boot times as UTC clock times, etcd member and cluster IDs as talosctl
// prints them (16 hex digits: pkg/machinery/resources/etcd/etcd.go FormatMemberID).

/** A boot time (SystemStat boot_time, Unix seconds) as a UTC clock time, e.g. 21:40:07. */
export const clock = (unixSeconds: number): string => new Date(unixSeconds * 1000).toISOString().slice(11, 19);

/** An etcd ID (uint64 in decimal) as 16 hex digits. */
export { hexMemberId as hexId } from '../src/model/member-id.ts';

/** A daemon's log message with its Unix boot times shown as clock times (the JSON keeps the exact value). */
export const readable = (text: string): string => text.replace(/\bbooted (\d{9,10})\b/g, (_, t: string) => `booted ${clock(Number(t))} UTC`);
