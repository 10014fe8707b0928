// TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL: the lifetime of the minted client certificates, and the one log line
// per mint (first certificate of a role, then each renewal) the daemon writes from ClientIdentities' listener.
import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config.ts';
import { ClientIdentities } from '../../src/pki/client-identities.ts';
import { loadMachineCA } from '../../src/pki/machine-ca.ts';
import { createOsCa } from '../sim/pki.ts';

const base = { TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3' };

describe('client certificate lifetime', () => {
  test('default 24h; 10m accepted; under 3m or over 30 days refused, naming the variable and the range', () => {
    const ok = (v?: string) => {
      const r = loadConfig(v === undefined ? base : { ...base, TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL: v });
      return r.ok ? r.config.clientCertTtlMs : r.problems.map((p) => `${p.variable}: ${p.problem}`).join('; ');
    };
    expect(ok()).toBe(24 * 3_600_000);
    expect(ok('10m')).toBe(600_000);
    expect(ok('2m')).toContain('TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL: must be from 3m to 720h');
    expect(ok('721h')).toContain('TALOS_AUTO_BOOTSTRAP_CLIENT_CERT_TTL');
    expect(ok('soon')).toContain('expected a duration');
  });

  test('certificates live ttl; each role minted once, then renewed once per renewal, each mint reported once', () => {
    const osCa = createOsCa();
    const ca = loadMachineCA(osCa.certPem, osCa.keyPem);
    let t = Date.now();
    const mints: string[] = [];
    const ids = new ClientIdentities(ca, 'autobootstrap@10.0.0.1', () => new Date(t), 6 * 60_000, (role, cert, renewed) => mints.push(`${role} ${renewed} ${cert.notAfter.getTime() - Math.floor(t / 1000) * 1000}`));
    // Lifetime including the 5-minute backdate: 11 min; renewed once less than a third (3m40s) remains,
    // i.e. 2m20s after minting.
    for (let i = 0; i < 30; i++) {
      ids.reader();
      ids.admin();
      t += 10_000; // 5 minutes in all
    }
    expect(mints.filter((m) => m.startsWith('os:reader'))).toEqual(['os:reader false 360000', 'os:reader true 360000', 'os:reader true 360000']);
    expect(mints.filter((m) => m.startsWith('os:admin'))).toHaveLength(3);
  });
});
