// The settle delay's schedule: the final observations end as the delay ends, never start before arming,
// and Bootstrap never comes before the full delay.
import { expect, test } from 'bun:test';
import { settlePlan } from '../../src/bootstrap/core/settle.ts';

test.each([
  // delay, member-list deadline, last discovery → member list at, probes at, not before
  [10_000, 4_000, 2_050, 6_000, 7_950, 10_000],
  [10_000, 4_000, 60_000, 6_000, 0, 10_000],
  [1_000, 4_000, 300, 0, 700, 1_000],
  [0, 4_000, 300, 0, 0, 0],
])('delay %d, deadline %d, discovery %d', (delay, deadline, discovery, memberListAt, discoveryAt, notBefore) => {
  expect(settlePlan(delay, deadline, discovery)).toEqual({ memberListAtMs: memberListAt, discoveryAtMs: discoveryAt, bootstrapNotBeforeMs: notBefore });
});
