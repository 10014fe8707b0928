// Every classification function over EVERY gRPC code: an error is never evidence of "not bootstrapped".
import { describe, expect, test } from 'bun:test';
import { status } from '@grpc/grpc-js';
import { clusterState } from '../../src/bootstrap/core/cluster-state.ts';
import type { MemberListResult } from '../../src/bootstrap/core/observation.ts';
import { dataDirFromError, serviceFromError } from '../../src/discovery/inspect-peer.ts';
import { dataDirFromListing } from '../../src/model/etcd-evidence.ts';
import { classifyBootstrapError, classifyReadError, memberListOutcome } from '../../src/talos/error-class.ts';
import { TalosCallError } from '../../src/talos/node-client.ts';
import { cp, obs, WAITING } from './core-fixtures.ts';

const ALL_CODES = Object.values(status).filter((v): v is number => typeof v === 'number');

test('the table covers all 17 gRPC codes', () => expect(ALL_CODES.sort((a, b) => a - b)).toEqual([...Array(17).keys()]));

describe.each(ALL_CODES.filter((c) => c !== status.OK).map((c) => [status[c] as string, c] as const))('%s', (_name, code) => {
  const error = new TalosCallError('List', code, 'something went wrong');

  test('an error listing the etcd data directory leaves it unknown', () => {
    expect(dataDirFromError(error).kind).toBe('unknown');
  });
  test('an error reading the service list leaves etcd unknown', () => {
    expect(serviceFromError(error).kind).toBe('unknown');
  });
  test('a control plane whose questions failed with this code blocks "not bootstrapped"', () => {
    const failed = cp('10.0.0.2', 2, { etcd: { service: serviceFromError(error), dataDir: dataDirFromError(error) } });
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), failed])).state).toBe('unknown');
    // Half an answer is not enough either: a listing error with etcd Preparing, or the reverse.
    const halfA = cp('10.0.0.2', 2, { etcd: { service: WAITING.service, dataDir: dataDirFromError(error) } });
    const halfB = cp('10.0.0.2', 2, { etcd: { service: serviceFromError(error), dataDir: { kind: 'empty' } } });
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), halfA])).state).toBe('unknown');
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), halfB])).state).toBe('unknown');
  });
  test('a member-list error with this code is no evidence: an unknown node stays unknown', () => {
    const outcome = memberListOutcome(code);
    expect(['answered-error', 'no-answer']).toContain(outcome);
    const memberList: MemberListResult = code === status.DEADLINE_EXCEEDED ? { kind: 'timed-out', message: 'x' } : outcome === 'answered-error' ? { kind: 'failed', message: 'x' } : { kind: 'no-answer', message: 'x' };
    const unknownNode = cp('10.0.0.2', 2, { etcd: { service: serviceFromError(error), dataDir: dataDirFromError(error) } });
    expect(clusterState(obs('10.0.0.1', [cp('10.0.0.1', 1), unknownNode], { memberList })).state).toBe('unknown');
  });
});

describe('the read and Bootstrap classifications, code by code', () => {
  const read: Record<string, string> = {
    CANCELLED: 'no-answer', UNKNOWN: 'failed', INVALID_ARGUMENT: 'failed', DEADLINE_EXCEEDED: 'no-answer', NOT_FOUND: 'not-found', ALREADY_EXISTS: 'failed',
    PERMISSION_DENIED: 'denied', RESOURCE_EXHAUSTED: 'failed', FAILED_PRECONDITION: 'failed', ABORTED: 'failed', OUT_OF_RANGE: 'failed', UNIMPLEMENTED: 'failed',
    INTERNAL: 'failed', UNAVAILABLE: 'no-answer', DATA_LOSS: 'failed', UNAUTHENTICATED: 'denied', OK: 'failed',
  };
  const bootstrap: Record<string, string> = {
    CANCELLED: 'retry', UNKNOWN: 'unknown', INVALID_ARGUMENT: 'refuse', DEADLINE_EXCEEDED: 'retry', NOT_FOUND: 'unknown', ALREADY_EXISTS: 'already-exists',
    PERMISSION_DENIED: 'wrong-role', RESOURCE_EXHAUSTED: 'unknown', FAILED_PRECONDITION: 'retry', ABORTED: 'unknown', OUT_OF_RANGE: 'unknown', UNIMPLEMENTED: 'wrong-role',
    INTERNAL: 'unknown', UNAVAILABLE: 'retry', DATA_LOSS: 'unknown', UNAUTHENTICATED: 'wrong-role', OK: 'unknown',
  };
  test.each(ALL_CODES.map((c) => [status[c] as string, c] as const))('%s', (name, code) => {
    expect(classifyReadError(code)).toBe(read[name] as 'failed');
    expect(classifyBootstrapError(code, 'details')).toBe(bootstrap[name] as 'retry');
  });
});

describe('the data-directory listing', () => {
  const root = { name: '/var/lib/etcd', relativeName: '.', isDir: true, error: '' };
  test('an empty reply is unknown, never empty', () => expect(dataDirFromListing([]).kind).toBe('unknown'));
  test('the directory alone is empty', () => expect(dataDirFromListing([root])).toEqual({ kind: 'empty' }));
  test('a member directory is data', () => {
    expect(dataDirFromListing([root, { name: '/var/lib/etcd/member', relativeName: 'member', isDir: true, error: '' }])).toEqual({ kind: 'has-data', entries: ['member'] });
  });
  test('any entry is data (Talos refuses Bootstrap on any non-empty directory, lost+found included)', () => {
    expect(dataDirFromListing([root, { name: '/var/lib/etcd/lost+found', relativeName: 'lost+found', isDir: true, error: '' }]).kind).toBe('has-data');
  });
  test('an entry with an error makes the whole listing unknown', () => {
    expect(dataDirFromListing([root, { name: '/var/lib/etcd/member', relativeName: '', isDir: false, error: 'permission denied' }]).kind).toBe('unknown');
  });
  test('a listing without the directory itself is unknown', () => {
    expect(dataDirFromListing([{ name: '/var/lib/etcd/member', relativeName: 'member', isDir: true, error: '' }]).kind).toBe('unknown');
  });
  test('a file where the directory should be is unknown', () => expect(dataDirFromListing([{ ...root, isDir: false }]).kind).toBe('unknown'));
});
