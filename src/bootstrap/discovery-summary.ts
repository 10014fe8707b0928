// The one line per round that says what each discovery source found. Its key leaves out nothing an
// operator would want to see change, so the runner logs it at info once per change (repeats at debug).
import type { DiscoverySource } from '../config.ts';
import type { DiscoveryResult } from '../discovery/discover.ts';
import type { MembersStatus } from './talos-view.ts';

export function discoverySummary(
  enabled: readonly DiscoverySource[],
  discovery: DiscoveryResult,
  members: MembersStatus,
  verifiedControlPlanes: number,
): { key: string; message: string } {
  const c = discovery.counts;
  const cps = (n: number) => `${n} verified control plane${n === 1 ? '' : 's'}`;
  const parts = [`self ${c.self.controlPlanes ? 'verified' : 'not verified'}`];
  if (enabled.includes('members')) {
    if (members.kind === 'unknown') parts.push(`members unknown (${members.reason})`);
    else if (members.kind === 'known' && members.members === 0) {
      // With cluster discovery on, Members always lists this node itself: none at all means it is off.
      parts.push(
        'members 0 listed: Talos cluster discovery looks disabled (when on, it always lists this node); enable it (cluster.discovery.enabled: true, or a DiscoveryServiceConfig document on v1.14) or add scan/static to TALOS_AUTO_BOOTSTRAP_DISCOVERY with TALOS_AUTO_BOOTSTRAP_PEERS',
      );
    } else if (members.kind === 'known') {
      parts.push(`members ${members.members} listed, ${members.controlPlaneAddresses} control-plane address(es) of peers probed: ${cps(c.members.controlPlanes)}`);
    }
  }
  if (enabled.includes('static')) parts.push(`static ${c.static.answered}/${c.static.probed} answered: ${cps(c.static.controlPlanes)}`);
  if (enabled.includes('scan')) parts.push(`scan ${c.scan.answered}/${c.scan.probed} answered: ${cps(c.scan.controlPlanes)}`);
  const message = `discovery: ${parts.join('; ')}; ${verifiedControlPlanes} control plane(s) in all`;
  return { key: JSON.stringify([c, members, verifiedControlPlanes]), message };
}
