import { describe, expect, test } from 'bun:test';
import { loadConfig } from '../../src/config.ts';

const base = { TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3', TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/24' };

describe('loadConfig', () => {
  test('defaults match the documented table', () => {
    const r = loadConfig(base);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config).toMatchObject({
      logLevel: 'info',
      scanIntervalMs: 30_000,
      followerCheckIntervalMs: 15_000,
      preBootstrapDelayMs: 10_000,
      maxBackoffMs: 120_000,
      scanTimeoutMs: 2_000,
      scanConcurrency: 256,
      peers: [],
      discovery: ['members', 'scan', 'static'],
      apidPort: 50000,
      caSource: 'auto',
      stateBusyTimeoutMs: 30_000,
      hostRoot: '/',
      dryRun: false,
      failurePauseMs: 60_000,
      nodeIp: undefined,
    });
  });

  test('every bad variable is reported at once, each naming what is valid', () => {
    const r = loadConfig({
      TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '0',
      TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: 'soon',
      TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '0s',
      TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: '5000',
      TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/8',
      TALOS_AUTO_BOOTSTRAP_PEERS: '10.0.0.1,nope',
      TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'scan,gossip',
      TALOS_AUTO_BOOTSTRAP_NODE_IP: '10.0.0.300',
      TALOS_AUTO_BOOTSTRAP_APID_PORT: '70000',
      TALOS_AUTO_BOOTSTRAP_CA_SOURCE: 'disk',
      TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT: 'a while',
      TALOS_AUTO_BOOTSTRAP_DRY_RUN: 'perhaps',
      LOG_LEVEL: 'trace',
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const byName = Object.fromEntries(r.problems.map((p) => [p.variable, p.problem]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'LOG_LEVEL',
        'TALOS_AUTO_BOOTSTRAP_APID_PORT',
        'TALOS_AUTO_BOOTSTRAP_CA_SOURCE',
        'TALOS_AUTO_BOOTSTRAP_DISCOVERY',
        'TALOS_AUTO_BOOTSTRAP_DRY_RUN',
        'TALOS_AUTO_BOOTSTRAP_NODE_IP',
        'TALOS_AUTO_BOOTSTRAP_PEERS',
        'TALOS_AUTO_BOOTSTRAP_QUORUM_NODES',
        'TALOS_AUTO_BOOTSTRAP_SCAN_CIDR',
        'TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY',
        'TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL',
        'TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT',
        'TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT',
      ].sort(),
    );
    expect(byName.TALOS_AUTO_BOOTSTRAP_QUORUM_NODES).toContain('from 1 to 1000');
    expect(byName.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR).toContain('/16 to /32');
    expect(byName.TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY).toContain('1 to 4096');
    expect(byName.TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL).toContain('30s');
    expect(byName.TALOS_AUTO_BOOTSTRAP_PEERS).toContain('nope');
    expect(byName.TALOS_AUTO_BOOTSTRAP_DISCOVERY).toContain('gossip');
    expect(byName.TALOS_AUTO_BOOTSTRAP_CA_SOURCE).toContain('auto, state, socket');
    expect(byName.LOG_LEVEL).toContain('debug, info, warn, error');
    expect(byName.TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT).toContain('expected a duration such as');
  });

  test('STATE busy timeout: any duration, 0s meaning one try', () => {
    for (const [text, ms] of [['0s', 0], ['45s', 45_000], ['2m', 120_000]] as const) {
      const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_STATE_BUSY_TIMEOUT: text });
      if (!r.ok) throw new Error(JSON.stringify(r.problems));
      expect(r.config.stateBusyTimeoutMs).toBe(ms);
    }
  });

  test('quorum is required and says what to set it to', () => {
    const r = loadConfig({});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.problem).toContain('full control-plane count');
  });

  test('a multi-node quorum without a way to find peers is a configuration error', () => {
    // Only the static source, with no peers in it.
    const r = loadConfig({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3', TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static' });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]?.problem).toContain('TALOS_AUTO_BOOTSTRAP_PEERS');
    // A prefix is no help when the scan source is switched off.
    expect(loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static' }).ok).toBe(false);
    expect(loadConfig({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3', TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static', TALOS_AUTO_BOOTSTRAP_PEERS: '10.0.0.2' }).ok).toBe(true);
    expect(loadConfig({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '1', TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'static' }).ok).toBe(true);
  });

  test('by default peers come from members and a scan of the detected prefix: nothing else is required', () => {
    const r = loadConfig({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3' });
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.config.discovery).toEqual(['members', 'scan', 'static']);
      expect(r.config.scanCidrs).toBeUndefined();
    }
    expect(loadConfig({ TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3', TALOS_AUTO_BOOTSTRAP_DISCOVERY: 'members' }).ok).toBe(true);
  });

  test('prefixes: several, a bare address is a /32, /16 is the widest', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/24, 10.1.0.7,10.2.0.0/16' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.scanCidrs?.map((p) => p.text)).toEqual(['10.0.0.0/24', '10.1.0.7/32', '10.2.0.0/16']);
    expect(loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.2.0.0/15' }).ok).toBe(false);
  });

  test('durations in every unit', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '1m30s', TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '500ms', TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: '1h', TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '0s' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect([r.config.scanIntervalMs, r.config.scanTimeoutMs, r.config.maxBackoffMs, r.config.preBootstrapDelayMs]).toEqual([90_000, 500, 3_600_000, 0]);
  });

  test('a scan timeout as long as the scan interval is refused', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '2s', TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '2s' });
    expect(r.ok).toBe(false);
  });

  test('a misspelt variable is named as a warning', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_QUORUM: '3' });
    expect(r.ok && r.warnings.map((w) => w.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_QUORUM']);
  });
});
