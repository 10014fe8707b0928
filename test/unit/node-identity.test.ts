// One identity per node in every view: merging by Talos's node identity, a tie-break every observer
// computes the same way, addresses shared between certificates never naming a node, NODE_IP checks.
import { describe, expect, test } from 'bun:test';
import { decide, selfAddressProblem } from '../../src/bootstrap/core/decide.ts';
import { electLeader } from '../../src/bootstrap/core/elect.ts';
import { selfCheckProblem, type LocalNode } from '../../src/bootstrap/self-check.ts';
import { mergeByIdentity, sharedAddresses } from '../../src/discovery/merge-identities.ts';
import { inLocalPrefixes, localPrefixesOfInterfaces, parseFibTrieLocal } from '../../src/host/own-address.ts';
import { cp, obs, PREPARING_WITH_DATA } from './core-fixtures.ts';

// Two multi-homed control planes booted in the same second: private 10.0.0.x (reachable), public
// 192.0.2.x (the default route; :50000 closed). Node A's default address is its public one.
const A = { identity: 'nodeA', defaultAddress: '192.0.2.20', hostname: 'a', certAddresses: ['10.0.0.5', '192.0.2.20'] };
const B = { identity: 'nodeB', defaultAddress: '192.0.2.10', hostname: 'b', certAddresses: ['10.0.0.6', '192.0.2.10'] };

describe('the same leader in every view', () => {
  test('multi-homed nodes tied on boot time: each view names the same leader, whichever addresses answered', () => {
    // A's view: itself at its NODE_IP (public), B at its private address.
    const viewOfA = mergeByIdentity([cp('192.0.2.20', 100, A), cp('10.0.0.6', 100, B)], '192.0.2.20');
    // B's view: itself at its public address, A at its private address.
    const viewOfB = mergeByIdentity([cp('192.0.2.10', 100, B), cp('10.0.0.5', 100, A)], '192.0.2.10');
    expect(electLeader(viewOfA)?.identity).toBe('nodeB');
    expect(electLeader(viewOfB)?.identity).toBe('nodeB');
    const da = decide({ observation: obs('192.0.2.20', viewOfA, { selfIdentity: 'nodeA' }), quorumNodes: 2, armed: undefined });
    const db = decide({ observation: obs('192.0.2.10', viewOfB, { selfIdentity: 'nodeB' }), quorumNodes: 2, armed: undefined });
    expect([da.kind, db.kind]).toEqual(['wait', 'arm']);
  });
  test('NODE_IP not the lowest address: the tie still has exactly one leader', () => {
    const viewOfA = mergeByIdentity([cp('10.0.0.5', 100, A), cp('10.0.0.6', 100, B), cp('192.0.2.10', 100, B)], '10.0.0.5');
    const viewOfB = mergeByIdentity([cp('192.0.2.10', 100, B), cp('10.0.0.5', 100, A), cp('192.0.2.20', 100, A)], '192.0.2.10');
    expect(electLeader(viewOfA)?.identity).toBe(electLeader(viewOfB)?.identity as string);
  });
  test('without a default address the node identity breaks the tie', () => {
    const x = cp('10.0.0.9', 100, { identity: 'aaa', defaultAddress: undefined });
    const y = cp('10.0.0.1', 100, { identity: 'bbb', defaultAddress: undefined });
    expect(electLeader([x, y])?.identity).toBe('aaa');
    expect(electLeader([y, x])?.identity).toBe('aaa');
  });
  test('equal default addresses (two NATed nodes) fall back to the identity', () => {
    const x = cp('10.0.0.9', 100, { identity: 'zzz', defaultAddress: '10.0.0.1' });
    const y = cp('10.0.0.1', 100, { identity: 'yyy', defaultAddress: '10.0.0.1' });
    expect(electLeader([x, y])?.identity).toBe('yyy');
  });
});

describe('addresses in more than one certificate', () => {
  const vip = '10.0.0.100';
  test('a VIP in two certificates is shared and names neither node', () => {
    const a = cp('10.0.0.1', 1, { identity: 'A', certAddresses: ['10.0.0.1', vip] });
    const b = cp('10.0.0.2', 2, { identity: 'B', certAddresses: ['10.0.0.2', vip] });
    const atVip = cp(vip, 1, { identity: 'A', certAddresses: ['10.0.0.1', vip] });
    expect([...sharedAddresses([a, b, atVip])]).toEqual([vip]);
    const merged = mergeByIdentity([atVip, b, a], '10.0.0.2');
    expect(merged.find((c) => c.identity === 'A')?.address).toBe('10.0.0.1');
  });
  test('NODE_IP that is a VIP is never a Bootstrap target: it is named as the problem', () => {
    const self = cp(vip, 1, { identity: 'S', certAddresses: ['10.0.0.1', vip] });
    const other = cp('10.0.0.2', 2, { identity: 'B', certAddresses: ['10.0.0.2', vip] });
    const o = obs(vip, [self, other], { selfIdentity: 'S' });
    expect(selfAddressProblem(o)).toContain('VIP or shared certSAN');
    expect(decide({ observation: o, quorumNodes: 2, armed: 'S' })).toMatchObject({ kind: 'wait', reason: 'self-mismatch' });
  });
  test('NODE_IP answering as another node is named as the problem, never bootstrapped', () => {
    const o = obs('10.0.0.2', [cp('10.0.0.1', 1, { identity: 'S' }), cp('10.0.0.2', 2, { identity: 'B' })], { selfIdentity: 'S' });
    expect(selfAddressProblem(o)).toContain('answers as another node');
    expect(decide({ observation: o, quorumNodes: 2, armed: 'S' }).kind).toBe('wait');
  });
  test('a cluster that exists is still joined whatever NODE_IP says', () => {
    const o = obs('10.0.0.2', [cp('10.0.0.1', 1, { identity: 'S' }), cp('10.0.0.2', 2, { identity: 'B', etcd: PREPARING_WITH_DATA })], { selfIdentity: 'S' });
    expect(decide({ observation: o, quorumNodes: 2, armed: undefined }).kind).toBe('bootstrapped');
  });
});

describe('one node seen twice with different facts', () => {
  test('data seen on any of its answers wins over an empty listing', () => {
    const merged = mergeByIdentity([cp('10.0.0.1', 1, { identity: 'A' }), cp('10.0.0.9', 1, { identity: 'A', etcd: PREPARING_WITH_DATA })], '10.0.0.5');
    expect(merged).toHaveLength(1);
    expect(merged[0]?.etcd.dataDir.kind).toBe('has-data');
  });
});

describe('NODE_IP is this node', () => {
  const FIB = `Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 10.0.0.0/24 2 0 2
        |-- 10.0.0.0
           /24 link UNICAST
        |-- 10.0.0.5
           /32 host LOCAL
Local:
  +-- 0.0.0.0/0 3 0 5
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     |-- 10.0.0.5
        /32 host LOCAL
`;
  test('fib_trie: interface addresses and loopback are local, a neighbour is not', () => {
    const local = parseFibTrieLocal(FIB);
    expect(inLocalPrefixes('10.0.0.5', local)).toBe(true);
    expect(inLocalPrefixes('127.0.5.1', local)).toBe(true);
    expect(inLocalPrefixes('10.0.0.6', local)).toBe(false);
    expect(inLocalPrefixes('10.0.0.0', local)).toBe(false);
  });
  test('interface list fallback: a loopback interface covers its prefix', () => {
    const local = localPrefixesOfInterfaces([
      { iface: 'lo', address: '127.0.0.1', family: 'IPv4', internal: true, bits: 8 },
      { iface: 'eth0', address: '10.0.0.5', family: 'IPv4', internal: false, bits: 24 },
    ]);
    expect(inLocalPrefixes('127.0.7.3', local)).toBe(true);
    expect(inLocalPrefixes('10.0.0.5', local)).toBe(true);
    expect(inLocalPrefixes('10.0.0.7', local)).toBe(false);
  });
  const local: LocalNode = { identity: 'S', hostname: 'cp1', bootTime: 1000n, certAddresses: ['10.0.0.5', '192.0.2.5'], apidAddress: '127.0.0.1' };
  const ok = { own: true as const, source: 'fib_trie' };
  test('an address of this host in its apid certificate, with the local boot time: fine', () => {
    expect(selfCheckProblem({ nodeIp: '10.0.0.5', nodeIpFrom: 'TALOS_AUTO_BOOTSTRAP_NODE_IP', own: ok, local, hostBootTime: 1000n })).toBeUndefined();
    expect(selfCheckProblem({ nodeIp: '10.0.0.5', nodeIpFrom: 'x', own: ok, local, hostBootTime: 1001n })).toBeUndefined();
  });
  test('another node\'s address (not local) is a clear error', () => {
    expect(selfCheckProblem({ nodeIp: '10.0.0.6', nodeIpFrom: 'TALOS_AUTO_BOOTSTRAP_NODE_IP', own: { own: false, source: 'fib_trie', local: '10.0.0.5' }, local, hostBootTime: 1000n })).toContain(
      'is not an address of this host',
    );
  });
  test('a local apid with another boot time is not this node', () => {
    expect(selfCheckProblem({ nodeIp: '10.0.0.5', nodeIpFrom: 'x', own: ok, local, hostBootTime: 900n })).toContain('is not this node\'s apid');
  });
  test('a local address that the apid certificate does not carry (a VIP held here) is an error', () => {
    expect(selfCheckProblem({ nodeIp: '10.0.0.100', nodeIpFrom: 'x', own: ok, local, hostBootTime: 1000n })).toContain('is not in this node\'s apid certificate');
  });
});
