// The host-root fixture tree of one simulated node: what the daemon sees through
// TALOS_AUTO_BOOTSTRAP_HOST_ROOT. Files are written in the formats Talos and the kernel produce.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EtcdSecretsFiles } from './pki.ts';

/** The kernel pads each /proc/net/route line to 127 characters (seq_setwidth + seq_pad in fib_trie.c). */
function routeLine(text: string): string {
  return text.padEnd(127, ' ') + '\n';
}

/** An IPv4 address as /proc/net/route prints it: the network-order 32-bit value read as a little-endian integer, %08X. */
export function routeHex(ip: string): string {
  const b = ip.split('.').map(Number);
  const value = ((b[3] ?? 0) << 24 | (b[2] ?? 0) << 16 | (b[1] ?? 0) << 8 | (b[0] ?? 0)) >>> 0;
  return value.toString(16).toUpperCase().padStart(8, '0');
}

function maskOf(prefix: number): string {
  const m = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return [m >>> 24, (m >>> 16) & 255, (m >>> 8) & 255, m & 255].join('.');
}

function networkOf(ip: string, prefix: number): string {
  const b = ip.split('.').map(Number);
  const m = maskOf(prefix).split('.').map(Number);
  return b.map((x, i) => x & (m[i] ?? 0)).join('.');
}

/** /proc/net/route with a default route through `gateway` and the connected route of the node's network. */
export function renderRouteTable(options: { iface: string; ip: string; prefixLength: number; gateway: string; metric?: number }): string {
  const metric = options.metric ?? 1024;
  const RTF_UP = 0x1;
  const RTF_GATEWAY = 0x2;
  const row = (dest: string, gw: string, flags: number, mask: string) =>
    routeLine(
      [options.iface, routeHex(dest), routeHex(gw), flags.toString(16).toUpperCase().padStart(4, '0'), '0', '0', String(metric), routeHex(mask), '0', '0', '0'].join('\t'),
    );
  return (
    routeLine('Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT') +
    row('0.0.0.0', options.gateway, RTF_UP | RTF_GATEWAY, '0.0.0.0') +
    row(networkOf(options.ip, options.prefixLength), '0.0.0.0', RTF_UP, maskOf(options.prefixLength))
  );
}

/** /proc/stat of a lightly loaded 2-CPU machine booted at `bootTime`. */
export function renderProcStat(bootTime: number): string {
  const uptime = Math.max(1, Math.floor(Date.now() / 1000) - bootTime);
  const ticks = uptime * 100; // USER_HZ
  const cpu = (share: number) => {
    const idle = Math.floor(ticks * share * 0.93);
    const user = Math.floor(ticks * share * 0.04);
    const system = Math.floor(ticks * share * 0.02);
    return `${user} 0 ${system} ${idle} ${Math.floor(ticks * share * 0.005)} 0 ${Math.floor(ticks * share * 0.002)} 0 0 0`;
  };
  return [
    `cpu  ${cpu(2)}`,
    `cpu0 ${cpu(1)}`,
    `cpu1 ${cpu(1)}`,
    `intr ${uptime * 412} 0 9 0 0 0 0 0 0 0 0 0 0 156 0 0 0`,
    `ctxt ${uptime * 1630}`,
    `btime ${bootTime}`,
    `processes ${1200 + (uptime % 997)}`,
    'procs_running 1',
    'procs_blocked 0',
    `softirq ${uptime * 230} 0 ${uptime * 80} 0 ${uptime * 12} 0 0 ${uptime * 3} 0 0 ${uptime * 130}`,
    '',
  ].join('\n');
}

/**
 * /proc/net/fib_trie's local table as the kernel prints it (net/ipv4/fib_trie.c fib_trie_seq_show): each
 * local address a `/32 host LOCAL` leaf, and 127.0.0.0/8 as `/8 host LOCAL` (loopback).
 */
export function renderFibTrie(addresses: string[]): string {
  const leaf = (ip: string, line: string) => `     |-- ${ip}\n        ${line}\n`;
  const locals = [...new Set(addresses)].map((ip) => leaf(ip, '/32 host LOCAL')).join('');
  return `Main:\n  +-- 0.0.0.0/0 3 0 5\n${leaf('0.0.0.0', '/0 universe UNICAST')}Local:\n  +-- 0.0.0.0/0 3 0 5\n${leaf('127.0.0.0', '/8 host LOCAL')}${leaf('127.0.0.1', '/32 host LOCAL')}${locals}`;
}

/**
 * The host PID 1's /proc/1/mountinfo on a booted Talos node (proc_pid_mountinfo(5)): the read-only squashfs
 * root, and EPHEMERAL (xfs) mounted over /var, as Talos mounts it in the boot sequence's "ephemeral" phase
 * (internal/app/machined/pkg/runtime/v1alpha1/v1alpha1_sequencer.go, MountEphemeralPartition). `varDevice`
 * is the major:minor of the fixture tree's own filesystem, so the daemon's device comparison sees the state
 * directory (under the fixture's var/) on "the host's /var".
 */
export function renderMountInfo(varDevice: { major: number; minor: number }): string {
  return [
    '22 1 7:0 / / ro,relatime shared:1 - squashfs /dev/loop0 ro,errors=continue',
    '23 22 0:5 / /dev rw,nosuid,relatime shared:2 - devtmpfs devtmpfs rw,size=4010056k,nr_inodes=1002514,mode=755',
    '24 22 0:22 / /proc rw,nosuid,nodev,noexec,relatime shared:3 - proc proc rw',
    '25 22 0:23 / /system rw,relatime shared:4 - tmpfs tmpfs rw,mode=755',
    `41 22 ${varDevice.major}:${varDevice.minor} / /var rw,relatime shared:20 - xfs /dev/vda6 rw,attr2,inode64,logbufs=8,logbsize=32k,noquota`,
    '',
  ].join('\n');
}

/** glibc's major/minor of a 64-bit dev_t. */
function deviceOf(path: string): { major: number; minor: number } {
  const dev = statSync(path, { bigint: true }).dev;
  return { major: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n)), minor: Number((dev & 0xffn) | ((dev >> 12n) & 0xffffff00n)) };
}

export interface HostRootContent {
  bootTime: number;
  /** The kernel's boot_id for /proc/sys/kernel/random/boot_id: new on every boot. */
  bootId?: string;
  /** Every address of the node, for /proc/net/fib_trie; default the route's address only. */
  localAddresses?: string[];
  route: { iface: string; ip: string; prefixLength: number; gateway: string };
  /** config.yaml text; absent for a node in maintenance mode (no config on STATE yet). */
  machineConfig?: string;
  /** /system/secrets/etcd; control planes only, once time is synced and etcd PKI is written. */
  etcdSecrets?: EtcdSecretsFiles;
}

/** Creates or refreshes the tree; files that should not exist (e.g. etcd secrets on a worker) are removed. */
export function writeHostRoot(root: string, content: HostRootContent): void {
  const put = (rel: string, text: string, mode = 0o644) => {
    const path = join(root, rel);
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, text, { mode });
  };
  put('host/proc/stat', renderProcStat(content.bootTime));
  if (content.bootId !== undefined) put('host/proc/sys/kernel/random/boot_id', `${content.bootId}\n`);
  put('host/proc/1/mountinfo', renderMountInfo(deviceOf(join(root, 'host/proc'))));
  put('host/proc/net/route', renderRouteTable(content.route));
  put('host/proc/net/fib_trie', renderFibTrie(content.localAddresses ?? [content.route.ip]));

  if (content.machineConfig !== undefined) put('system/state/config.yaml', content.machineConfig, 0o600);
  else rmSync(join(root, 'system/state/config.yaml'), { force: true });

  const etcdDir = join(root, 'system/secrets/etcd');
  if (content.etcdSecrets) {
    for (const [name, pem] of Object.entries(content.etcdSecrets)) put(`system/secrets/etcd/${name}`, pem, name.endsWith('.key') ? 0o600 : 0o644);
  } else {
    rmSync(etcdDir, { recursive: true, force: true });
  }
}
