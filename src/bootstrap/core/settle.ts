// When, within the leader's settle delay, the final check starts its observations.
//
// PRE_BOOTSTRAP_DELAY runs from arming to the Bootstrap call and is never cut short. The final check must
// be fresh, so its observations are timed to end as the delay ends rather than to begin then: the member
// list (which before a bootstrap answers only at its deadline) starts one deadline before the end, the
// probes one discovery-duration (as the arming round measured it) before the end. The call then follows
// its evidence at once instead of a member-list deadline and a scan later.

export interface SettlePlan {
  /** From arming to starting the final member-list query. */
  memberListAtMs: number;
  /** From arming to starting the final round's probes. */
  discoveryAtMs: number;
  /** From arming to the earliest Bootstrap call. */
  bootstrapNotBeforeMs: number;
}

export function settlePlan(delayMs: number, memberListDeadlineMs: number, lastDiscoveryMs: number): SettlePlan {
  const clamp = (lead: number) => Math.max(0, delayMs - Math.min(delayMs, Math.max(0, lead)));
  return {
    memberListAtMs: clamp(memberListDeadlineMs),
    discoveryAtMs: clamp(lastDiscoveryMs),
    bootstrapNotBeforeMs: delayMs,
  };
}
