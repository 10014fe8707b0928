// The deterministic simulation in make test: a smaller count than make simulate (10,000 schedules), the
// broken variants that must fail, and every failing seed found so far kept as a regression.
import { describe, expect, test } from 'bun:test';
import { failed, LIVENESS_BOUND_MS, runMany, runScenario, scenarioFor, type Variant } from './world.ts';

/** Seeds that once failed, with the variant they ran; each must keep its verdict. */
const REGRESSIONS: { seed: number; variant: Variant; fails: boolean; why: string }[] = [
  // Broken variants: failing seeds the runs found; they must keep failing.
  { seed: 5, variant: 'forgetful-acceptor', fails: true, why: 'an acceptor that forgets its promise lets cp1 and cp3 of three both bootstrap' },
  { seed: 2, variant: 'forgetful-acceptor', fails: true, why: 'the same with seven control planes' },
  { seed: 20, variant: 'minority-quorum', fails: true, why: 'floor(N/2) acceptors of 3 let cp1 and cp2 both be chosen' },
  { seed: 6, variant: 'no-agreement', fails: true, why: 'without agreement, two leaders of their own views both bootstrap' },
  // The same schedules with the real protocol: safe, and a bootstrap within the bound.
  { seed: 5, variant: 'correct', fails: false, why: 'same seed, durable acceptors' },
  { seed: 2, variant: 'correct', fails: false, why: 'same seed, durable acceptors' },
  { seed: 20, variant: 'correct', fails: false, why: 'same seed, majority quorum' },
  { seed: 6, variant: 'correct', fails: false, why: 'same seed, with agreement' },
];

const COUNT = Number(process.env.SIMULATION_SEEDS ?? 2_000);

describe('deterministic simulation', () => {
  test(`${COUNT} schedules: never two Bootstraps or two etcd clusters; a bootstrap within ${LIVENESS_BOUND_MS / 1000}s of the heal`, () => {
    const s = runMany(1, COUNT, 'correct');
    const lines = s.failures.map((f) => `seed ${f.scenario.seed}: ${f.violations.join('; ') || 'no bootstrap within the bound'}`);
    expect(lines).toEqual([]);
    expect(s.maxFormedAfterHealMs).toBeLessThanOrEqual(LIVENESS_BOUND_MS);
    // The faults really happen: otherwise a pass would prove nothing.
    expect(s.stats.lostBootstraps).toBeGreaterThan(10);
    expect(s.stats.reissues).toBeGreaterThan(10);
    expect(s.stats.crashes).toBeGreaterThan(100);
    expect(s.stats.reboots).toBeGreaterThan(100);
    expect(s.stats.duels).toBeGreaterThan(10);
  });

  test('every N in {1,3,5,7} and every q from a majority to N is covered', () => {
    const seen = new Set<string>();
    for (let seed = 1; seed <= COUNT; seed++) {
      const sc = scenarioFor(seed);
      seen.add(`${sc.n}/${sc.q}`);
    }
    expect([...seen].sort()).toEqual(['1/1', '3/2', '3/3', '5/3', '5/4', '5/5', '7/4', '7/5', '7/6', '7/7']);
  });

  test('an acceptor that forgets on restart is caught within the run', () => {
    const s = runMany(1, COUNT, 'forgetful-acceptor', 1);
    expect(s.failures.length).toBe(1);
    expect(s.failures[0]?.violations.length).toBeGreaterThan(0);
  });

  test('a quorum of floor(N/2) is caught within the run', () => {
    const s = runMany(1, COUNT, 'minority-quorum', 1);
    expect(s.failures.length).toBe(1);
    expect(s.failures[0]?.violations.length).toBeGreaterThan(0);
  });

  test('the daemon without agreement (a majority seen is enough) splits within the run', () => {
    const s = runMany(1, COUNT, 'no-agreement', 1);
    expect(s.failures.length).toBe(1);
    expect(s.failures[0]?.violations.join(' ')).toContain('Bootstrap accepted on');
  });

  for (const r of REGRESSIONS) {
    test(`regression: seed ${r.seed} ${r.variant} ${r.fails ? 'fails' : 'passes'} (${r.why})`, () => {
      expect(failed(runScenario(scenarioFor(r.seed, r.variant)))).toBe(r.fails);
    });
  }

  test('a seed replays exactly', () => {
    const a = runScenario(scenarioFor(4242), { trace: true });
    const b = runScenario(scenarioFor(4242), { trace: true });
    expect(b.trace).toEqual(a.trace);
    expect(a.trace.length).toBeGreaterThan(0);
  });
});
