// One node, one vote. A node answers on every address its apid certificate lists (several NICs, a VIP,
// a load balancer in certSANs), so candidates are merged by Talos's node identity before anything counts
// them: otherwise one node seen twice could complete a quorum. The certificate fingerprint would not do:
// apid regenerates its certificate when addresses or time sync change and every 12 hours.
import type { Candidate } from '../model/candidate.ts';
import type { DataDirEvidence, EtcdEvidence, EtcdServiceEvidence } from '../model/etcd-evidence.ts';
import { compareIPv4 } from '../util/ipv4.ts';

/**
 * Addresses that the certificates of two or more distinct nodes carry: a VIP, a load balancer in
 * certSANs. Such an address names no single node.
 */
export function sharedAddresses(candidates: readonly Candidate[]): Set<string> {
  const owners = new Map<string, Set<string>>();
  for (const c of candidates) {
    for (const a of new Set([c.address, ...(c.certAddresses ?? [])])) {
      const set = owners.get(a) ?? new Set<string>();
      set.add(c.identity);
      owners.set(a, set);
    }
  }
  return new Set([...owners].filter(([, ids]) => ids.size > 1).map(([a]) => a));
}

const SERVICE_RANK: Record<EtcdServiceEvidence['kind'], number> = { 'not-running': 0, unknown: 1, 'bootstrap-requested': 2, running: 3 };
const DATA_RANK: Record<DataDirEvidence['kind'], number> = { empty: 0, unknown: 1, 'has-data': 2 };

/** Several answers of one node: the one furthest from "not bootstrapped" wins, per fact. */
export function strongestEtcd(answers: readonly EtcdEvidence[]): EtcdEvidence {
  const first = answers[0] as EtcdEvidence;
  const service = answers.reduce((a, e) => (SERVICE_RANK[e.service.kind] > SERVICE_RANK[a.kind] ? e.service : a), first.service);
  const dataDir = answers.reduce((a, e) => (DATA_RANK[e.dataDir.kind] > DATA_RANK[a.kind] ? e.dataDir : a), first.dataDir);
  return { service, dataDir };
}

/**
 * Candidates merged by identity. Each node is named by an address it answered at that no other node
 * carries: this node by NODE_IP, others by their default address when it answered, else the lowest.
 * `shared` addresses are used only when a node answered nowhere else. When one identity answered with
 * different boot times (a reboot during the round), the later one is kept: it is the node as it is now; its
 etcd facts are the strongest any answer gave (data anywhere beats an empty listing).
 */
export function mergeByIdentity(candidates: Candidate[], self: string, known: readonly Candidate[] = candidates): Candidate[] {
  const shared = sharedAddresses(known);
  const byIdentity = new Map<string, Candidate[]>();
  for (const c of candidates) byIdentity.set(c.identity, [...(byIdentity.get(c.identity) ?? []), c]);
  const merged: Candidate[] = [];
  for (const group of byIdentity.values()) {
    const latestBoot = group.reduce((t, c) => (c.bootTime > t ? c.bootTime : t), group[0]?.bootTime ?? 0n);
    const current = group.filter((c) => c.bootTime === latestBoot);
    const addresses = [...new Set(group.map((c) => c.address))].sort(compareIPv4);
    const own = addresses.filter((a) => !shared.has(a));
    const pool = own.length > 0 ? own : addresses;
    const fromDefault = current.find((c) => c.defaultAddress !== undefined)?.defaultAddress;
    const primaryAddress = pool.includes(self) ? self : fromDefault !== undefined && pool.includes(fromDefault) ? fromDefault : (pool[0] as string);
    const base = current.find((c) => c.address === primaryAddress) ?? (current[0] as Candidate);
    const certAddresses = [...new Set(group.flatMap((c) => c.certAddresses ?? []))].sort(compareIPv4);
    const answeredAt = group.reduce<number | undefined>((t, c) => (c.answeredAt === undefined ? t : t === undefined ? c.answeredAt : Math.min(t, c.answeredAt)), undefined);
    const aliases = addresses.filter((a) => a !== primaryAddress);
    const { aliases: _drop, ...rest } = base;
    merged.push({
      ...rest,
      etcd: strongestEtcd(group.map((c) => c.etcd)),
      address: primaryAddress,
      ...(aliases.length > 0 ? { aliases } : {}),
      ...(certAddresses.length > 0 ? { certAddresses } : {}),
      ...(answeredAt !== undefined ? { answeredAt } : {}),
    });
  }
  return merged;
}
