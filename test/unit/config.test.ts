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
      TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: 'many',
      TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/33',
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
    expect(byName.TALOS_AUTO_BOOTSTRAP_SCAN_CIDR).toContain('is not an IPv4 prefix');
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

  test('prefixes: several, a bare address is a /32; wider than /16 starts with a warning', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/24, 10.1.0.7,10.2.0.0/16' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config.scanCidrs?.map((p) => p.text)).toEqual(['10.0.0.0/24', '10.1.0.7/32', '10.2.0.0/16']);
    const wide = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.2.0.0/15' });
    expect(wide.ok && wide.warnings.map((w) => w.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_SCAN_CIDR']);
  });

  test('durations in every unit', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '1m30s', TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '500ms', TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: '1h', TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '0s' });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect([r.config.scanIntervalMs, r.config.scanTimeoutMs, r.config.maxBackoffMs, r.config.preBootstrapDelayMs]).toEqual([90_000, 500, 3_600_000, 0]);
  });

  test('a scan timeout as long as the scan interval starts, with a warning', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '2s', TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '2s' });
    expect(r.ok && r.warnings.map((w) => w.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT']);
  });

  test('a misspelt variable is named as a warning', () => {
    const r = loadConfig({ ...base, TALOS_AUTO_BOOTSTRAP_QUORUM: '3' });
    expect(r.ok && r.warnings.map((w) => w.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_QUORUM']);
  });
});

// The reference extension (envconfig + zap) accepted these; each still starts the daemon, with a warning
// where it is risky. The one exception: a missing quorum, refused because it splits clusters.
describe('migrating from the reference extension', () => {
  const q = { TALOS_AUTO_BOOTSTRAP_QUORUM_NODES: '3' };
  test.each([
    ['LOG_LEVEL=INFO', { LOG_LEVEL: 'INFO' }, { logLevel: 'info' }, []],
    ['LOG_LEVEL=DEBUG', { LOG_LEVEL: 'DEBUG' }, { logLevel: 'debug' }, []],
    ['LOG_LEVEL=Warn', { LOG_LEVEL: 'Warn' }, { logLevel: 'warn' }, []],
    ['LOG_LEVEL=warning', { LOG_LEVEL: 'warning' }, { logLevel: 'warn' }, []],
    ['LOG_LEVEL=ERROR', { LOG_LEVEL: 'ERROR' }, { logLevel: 'error' }, []],
    ['LOG_LEVEL=fatal', { LOG_LEVEL: 'fatal' }, { logLevel: 'error' }, ['LOG_LEVEL']],
    ['LOG_LEVEL=panic', { LOG_LEVEL: 'panic' }, { logLevel: 'error' }, ['LOG_LEVEL']],
    ['LOG_LEVEL=DPANIC', { LOG_LEVEL: 'DPANIC' }, { logLevel: 'error' }, ['LOG_LEVEL']],
    ['SCAN_CIDR empty (detect)', { TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '' }, { scanCidrs: undefined }, []],
    ['SCAN_CIDR blank (detect)', { TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '  ' }, { scanCidrs: undefined }, []],
    ['SCAN_TIMEOUT = SCAN_INTERVAL', { TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '30s', TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '30s' }, { scanTimeoutMs: 30_000 }, ['TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT']],
    ['SCAN_TIMEOUT > SCAN_INTERVAL', { TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '1m', TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '30s' }, { scanTimeoutMs: 60_000 }, ['TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT']],
    ['reference defaults spelt out', {
      TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '30s', TALOS_AUTO_BOOTSTRAP_FOLLOWER_CHECK_INTERVAL: '15s', TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '10s',
      TALOS_AUTO_BOOTSTRAP_MAX_BACKOFF: '2m', TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '2s', TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: '50', TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '',
    }, { scanConcurrency: 50, scanCidrs: undefined }, []],
    ['SCAN_CONCURRENCY above the cap', { TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: '5000' }, { scanConcurrency: 4096 }, ['TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY']],
    ['SCAN_CONCURRENCY 0', { TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY: '0' }, { scanConcurrency: 256 }, ['TALOS_AUTO_BOOTSTRAP_SCAN_CONCURRENCY']],
    ['SCAN_CIDR wider than /16', { TALOS_AUTO_BOOTSTRAP_SCAN_CIDR: '10.0.0.0/8' }, { scanCidrs: [{ network: 0x0a000000, bits: 8, text: '10.0.0.0/8' }] }, ['TALOS_AUTO_BOOTSTRAP_SCAN_CIDR']],
    ['Go durations', { TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL: '1m30s', TALOS_AUTO_BOOTSTRAP_PRE_BOOTSTRAP_DELAY: '0', TALOS_AUTO_BOOTSTRAP_SCAN_TIMEOUT: '1.5s' }, { scanIntervalMs: 90_000, preBootstrapDelayMs: 0, scanTimeoutMs: 1_500 }, []],
  ] as [string, Record<string, string>, Record<string, unknown>, string[]][])('%s starts', (_name, env, expected, warned) => {
    const r = loadConfig({ ...q, ...env });
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    expect(r.config).toMatchObject(expected);
    expect(r.warnings.map((w) => w.variable)).toEqual(warned);
  });
  test('a missing quorum is still refused: the reference default of 1 split a cluster', () => {
    const r = loadConfig({ LOG_LEVEL: 'INFO' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems.map((p) => p.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES']);
  });
  test('a level no logger knows is still an error naming the valid ones', () => {
    const r = loadConfig({ ...q, LOG_LEVEL: 'verbose' });
    expect(!r.ok && r.problems[0]?.problem).toBe('expected one of debug, info, warn, error');
  });
});

test('a prefix wider than /16 is narrowed to the /16 holding this node, or dropped', async () => {
  const { narrowToWidest } = await import('../../src/daemon.ts');
  const { parsePrefix } = await import('../../src/util/ipv4.ts');
  expect(narrowToWidest(parsePrefix('10.0.0.0/8')!, '10.20.30.40')?.text).toBe('10.20.0.0/16');
  expect(narrowToWidest(parsePrefix('10.0.0.0/8')!, '192.168.1.1')).toBeUndefined();
  expect(narrowToWidest(parsePrefix('10.0.0.0/24')!, '192.168.1.1')?.text).toBe('10.0.0.0/24');
});
