// After etcd runs: do all control planes belong to one cluster? Two nodes whose own member lists
// share no member are two clusters (split brain); overlapping lists are one cluster mid-change.
export interface MembershipView {
  address: string;
  memberIds: string[];
}

export type OneClusterVerdict = { kind: 'one'; memberIds: string[] } | { kind: 'split'; groups: string[][] };

export function oneCluster(views: MembershipView[]): OneClusterVerdict {
  // Union-find over nodes: two nodes are in one cluster when their member lists intersect.
  const groups: { addresses: string[]; members: Set<string> }[] = [];
  for (const view of views) {
    const touching = groups.filter((g) => view.memberIds.some((id) => g.members.has(id)));
    const merged = { addresses: [view.address], members: new Set(view.memberIds) };
    for (const g of touching) {
      merged.addresses.push(...g.addresses);
      for (const id of g.members) merged.members.add(id);
      groups.splice(groups.indexOf(g), 1);
    }
    groups.push(merged);
  }
  if (groups.length <= 1) return { kind: 'one', memberIds: [...(groups[0]?.members ?? [])].sort() };
  const sides = groups.map((g) => g.addresses.sort());
  return { kind: 'split', groups: sides.sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? '')) };
}
