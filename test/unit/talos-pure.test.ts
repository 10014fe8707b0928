import { describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { oneCluster } from '../../src/bootstrap/core/one-cluster.ts';
import { classifyBootstrapError, classifyReadError, isTransportFailure } from '../../src/talos/error-class.ts';
import { certificateNamesAddress, ipSans } from '../../src/talos/peer-identity.ts';
import { formatDuration, parseDuration } from '../../src/util/duration.ts';
import { hostCount, hostsOf, parsePrefix } from '../../src/util/ipv4.ts';

describe('Bootstrap error classes (DESIGN.md decision rules)', () => {
  test.each([
    [status.ALREADY_EXISTS, 'etcd data directory is not empty', 'already-exists'],
    [status.FAILED_PRECONDITION, 'time is not in sync yet', 'retry'],
    [status.FAILED_PRECONDITION, 'bootstrap is not available yet', 'retry'],
    [status.UNAVAILABLE, 'connection refused', 'retry'],
    [status.DEADLINE_EXCEEDED, '', 'retry'],
    [status.UNIMPLEMENTED, '', 'wrong-role'],
    [status.PERMISSION_DENIED, 'not authorized', 'wrong-role'],
    [status.INVALID_ARGUMENT, 'etcd is not configured, bootstrap is not possible', 'refuse'],
    [status.UNKNOWN, 'failed to start etcd', 'unknown'],
    [status.UNKNOWN, 'unexpected EOF', 'retry'],
    [status.INTERNAL, 'No connection established. Last error: connect ECONNRESET', 'retry'],
    [status.CANCELLED, '', 'retry'],
  ])('code %i "%s" → %s', (code, message, expected) => {
    expect(classifyBootstrapError(code, message)).toBe(expected as ReturnType<typeof classifyBootstrapError>);
  });
  test('one transport-failure rule for the daemon and apply', () => {
    expect(isTransportFailure(status.UNAVAILABLE, 'whatever')).toBe(true);
    expect(isTransportFailure(status.UNKNOWN, 'read: connection reset by peer')).toBe(true);
    expect(isTransportFailure(status.UNKNOWN, 'failed to start etcd')).toBe(false);
  });
  test('reads: silence is not an answer', () => {
    expect(classifyReadError(status.DEADLINE_EXCEEDED)).toBe('no-answer');
    expect(classifyReadError(status.UNAVAILABLE)).toBe('no-answer');
    expect(classifyReadError(status.UNKNOWN)).toBe('failed');
    expect(classifyReadError(status.NOT_FOUND)).toBe('not-found');
  });
});

describe('peer identity', () => {
  const san = 'DNS:cp-1, DNS:cp-1.example, IP Address:10.0.0.5, IP Address:127.0.0.1';
  test('only IP SANs count, exactly', () => {
    expect(ipSans(san)).toEqual(['10.0.0.5', '127.0.0.1']);
    expect(certificateNamesAddress(san, '10.0.0.5')).toBe(true);
    expect(certificateNamesAddress(san, '10.0.0.50')).toBe(false);
    expect(certificateNamesAddress('DNS:10.0.0.6', '10.0.0.6')).toBe(false);
    expect(certificateNamesAddress(undefined, '10.0.0.5')).toBe(false);
  });
});

describe('one cluster', () => {
  test('identical or overlapping member lists are one cluster', () => {
    expect(oneCluster([{ address: 'a', memberIds: ['1', '2'] }, { address: 'b', memberIds: ['1', '2', '3'] }, { address: 'c', memberIds: ['3'] }])).toEqual({ kind: 'one', memberIds: ['1', '2', '3'] });
  });
  test('disjoint member lists are a split, naming the nodes of each side', () => {
    expect(oneCluster([{ address: 'a', memberIds: ['1', '2'] }, { address: 'c', memberIds: ['9'] }, { address: 'b', memberIds: ['2'] }])).toEqual({ kind: 'split', groups: [['a', 'b'], ['c']] });
  });
});

describe('durations and prefixes', () => {
  test('durations', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1_500);
    for (const bad of ['', '30', 's', '5d', '-1s', '1s2', '1 s']) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(1_500)).toBe('1.5s');
  });
  test('prefix hosts are produced lazily and skip network and broadcast', () => {
    const p = parsePrefix('10.0.0.77/24');
    expect(p?.text).toBe('10.0.0.0/24');
    const hosts = [...hostsOf(p!)];
    expect(hosts).toHaveLength(254);
    expect([hosts[0], hosts[253]]).toEqual(['10.0.0.1', '10.0.0.254']);
    expect([...hostsOf(parsePrefix('10.0.0.9/32')!)]).toEqual(['10.0.0.9']);
    expect(hostCount(parsePrefix('10.0.0.0/16')!)).toBe(65_534);
    const it = hostsOf(parsePrefix('10.0.0.0/16')!);
    expect(it.next().value).toBe('10.0.0.1');
  });
});
