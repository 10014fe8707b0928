// The daemon's environment (src/config.ts loadConfig): every TALOS_AUTO_BOOTSTRAP_* variable with
// arbitrary, near-valid and hostile values, plus unknown variables. A config whose every value is in range,
// or problems that each name a variable; never an exception.
import { afterAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { ENV_PREFIX, failurePause, KNOWN_VARIABLES, loadConfig, MAX_SCAN_CONCURRENCY, WIDEST_SCAN_BITS } from '../../src/config.ts';
import { isIPv4 } from '../../src/util/ipv4.ts';
import { check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'environment.test.ts';

const octet = fc.integer({ min: -1, max: 300 });
const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer({ min: -10, max: 100_000 }).map(String),
  fc.double().map(String),
  fc.tuple(fc.integer({ min: -5, max: 100_000 }), fc.constantFrom('ms', 's', 'm', 'h', 'd', '', 'us', 'S')).map(([n, u]) => `${n}${u}`),
  fc.tuple(ip, fc.integer({ min: -1, max: 40 })).map(([a, b]) => `${a}/${b}`),
  fc.array(ip, { maxLength: 6 }).map((l) => l.join(',')),
  fc.subarray(['members', 'scan', 'static', 'bogus', '', ' scan']).map((l) => l.join(',')),
  fc.constantFrom('', ' ', 'true', 'false', '1', '0', 'auto', 'state', 'socket', 'debug', 'info', 'warn', 'error', '/', 'relative/path'),
  fc.constant('9'.repeat(400)),
);
const env = fc.dictionary(fc.oneof(fc.constantFrom(...KNOWN_VARIABLES), fc.string({ maxLength: 12 }).map((s) => `${ENV_PREFIX}${s}`)), value, { maxKeys: 14 });

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('environment', () => {
  test('any environment: a config in range, or problems naming variables', () => {
    check(
      FILE,
      'any environment',
      fc.property(env, (e) => {
        const r = outcome(() => loadConfig(e), []);
        if (!r.ok) return;
        const result = r.value;
        if (!result.ok) {
          expect(result.problems.length).toBeGreaterThan(0);
          for (const p of result.problems) {
            expect(p.variable.length).toBeGreaterThan(0);
            expect(p.problem.length).toBeGreaterThan(0);
          }
          return;
        }
        const c = result.config;
        expect(Number.isInteger(c.quorumNodes) && c.quorumNodes >= 1).toBe(true);
        for (const ms of [c.scanIntervalMs, c.followerCheckIntervalMs, c.preBootstrapDelayMs, c.maxBackoffMs, c.scanTimeoutMs, c.stateBusyTimeoutMs, c.failurePauseMs]) {
          expect(Number.isFinite(ms) && ms >= 0).toBe(true);
        }
        expect(c.scanConcurrency >= 1 && c.scanConcurrency <= MAX_SCAN_CONCURRENCY).toBe(true);
        for (const p of c.scanCidrs ?? []) expect(p.bits >= WIDEST_SCAN_BITS && p.bits <= 32).toBe(true);
        for (const p of c.peers) expect(isIPv4(p)).toBe(true);
        if (c.nodeIp !== undefined) expect(isIPv4(c.nodeIp)).toBe(true);
        expect(c.apidPort >= 1 && c.apidPort <= 65535).toBe(true);
        expect(c.discovery.length).toBeGreaterThan(0);
      }),
    );
  });

  test('the failure pause is read even from a broken environment', () => {
    check(
      FILE,
      'the failure pause is read even from a broken environment',
      fc.property(env, (e) => {
        const r = outcome(() => failurePause(e), []);
        if (r.ok) expect(Number.isFinite(r.value) && r.value >= 0).toBe(true);
      }),
    );
  });
});
