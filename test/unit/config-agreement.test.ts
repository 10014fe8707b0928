// The agreement's configuration: N optional, q a majority of N when N is set (exit 2 otherwise), the port,
// the state directory and the re-issue delay.
import { describe, expect, test } from 'bun:test';
import { DEFAULT_AGREEMENT_PORT, loadConfig } from '../../src/config.ts';

const base = { TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/24' };

function problems(env: Record<string, string>): Record<string, string> {
  const r = loadConfig({ ...base, ...env });
  return r.ok ? {} : Object.fromEntries(r.problems.map((p) => [p.variable, p.problem]));
}

describe('agreement configuration', () => {
  test('defaults: N unset, port 24450, /var/lib/autobootstrap, re-issue after 5 minutes', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '2' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config).toMatchObject({ controlPlanes: undefined, agreementPort: DEFAULT_AGREEMENT_PORT, stateDir: '/var/lib/autobootstrap', reissueDelayMs: 300_000 });
    expect(DEFAULT_AGREEMENT_PORT).toBe(24450);
  });

  test.each([
    [1, 1, true], [1, 2, false], [2, 1, false], [2, 2, true], [3, 2, true], [3, 3, true], [3, 1, false], [3, 4, false],
    [4, 2, false], [4, 3, true], [5, 3, true], [5, 2, false], [7, 4, true], [7, 3, false],
  ])('N=%i q=%i valid=%p', (n, q, valid) => {
    const p = problems({ TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES: String(n), TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: String(q) });
    if (valid) expect(p).toEqual({});
    else expect(p.TALOS_AUTO_BOOTSTRAP_QUORUM_NODES).toContain(`a majority of TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES=${n}`);
  });

  test('bad values are named with what is valid', () => {
    const p = problems({
      TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '2',
      TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES: 'three',
      TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT: '70000',
      TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY: '0s',
    });
    expect(p.TALOS_AUTO_BOOTSTRAP_CONTROL_PLANES).toContain('whole number');
    expect(p.TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT).toContain('1 to 65535');
    expect(p.TALOS_AUTO_BOOTSTRAP_REISSUE_DELAY).toContain('longer than zero');
  });

  test('the default state directory is under the host root; an explicit one is taken as given', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '1', TALOS_AUTO_BOOTSTRAP_HOST_ROOT: '/tmp/fixture' });
    expect(r.ok && r.config.stateDir).toBe('/tmp/fixture/var/lib/autobootstrap');
    const e = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '1', TALOS_AUTO_BOOTSTRAP_HOST_ROOT: '/tmp/fixture', TALOS_AUTO_BOOTSTRAP_STATE_DIR: '/srv/state' });
    expect(e.ok && e.config.stateDir).toBe('/srv/state');
  });

  test('a relative state directory and the apid port as agreement port are refused', () => {
    expect(problems({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '1', TALOS_AUTO_BOOTSTRAP_STATE_DIR: 'var/lib/x' }).TALOS_AUTO_BOOTSTRAP_STATE_DIR).toContain('absolute');
    expect(problems({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '1', TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT: '50000' }).TALOS_AUTO_BOOTSTRAP_AGREEMENT_PORT).toContain('differ');
  });
});
