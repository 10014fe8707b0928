// src/util/ipv4.ts on ip-cidr: strict parsing, canonical prefixes, containment, and a lazy walk.
import { describe, expect, test } from 'bun:test';
import { compareIPv4, hostCount, hostsOf, isIPv4, parseIPv4, parsePrefix, prefixContains } from '../../src/util/ipv4.ts';

describe('addresses', () => {
  test('dotted quads only, no leading zeros, no prefix, no IPv6; the number form agrees with the validator', () => {
    for (const good of ['10.0.0.5', '0.0.0.0', '255.255.255.255', '127.0.90.11']) {
      expect(isIPv4(good), good).toBe(true);
      expect(parseIPv4(good), good).toBeDefined();
    }
    for (const bad of ['10.0.0.300', '1.2.3', '01.2.3.4', '1.2.3.4/24', '::1', ' 1.2.3.4', '1.2.3.4.5', '', 'a.b.c.d']) {
      expect(isIPv4(bad), bad).toBe(false);
      if (!bad.includes('/') && !bad.includes(':')) expect(parseIPv4(bad), bad).toBeUndefined();
    }
    expect(parseIPv4('10.0.0.9')).toBe(0x0a000009);
    expect(['10.0.0.10', '10.0.0.9', '9.255.0.1'].sort(compareIPv4)).toEqual(['9.255.0.1', '10.0.0.9', '10.0.0.10']);
  });
});

describe('prefixes', () => {
  test('parsed to canonical form; invalid ones refused', () => {
    expect(parsePrefix('10.0.0.7/24')).toEqual({ network: 0x0a000000, bits: 24, text: '10.0.0.0/24' });
    expect(parsePrefix(' 10.1.0.0/16 ')?.text).toBe('10.1.0.0/16');
    expect(parsePrefix('10.0.0.5/32')?.text).toBe('10.0.0.5/32');
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/024', 'fd00::/64', '10.0.0/24', 'x/24']) expect(parsePrefix(bad), bad).toBeUndefined();
  });

  test('containment', () => {
    expect(prefixContains('10.0.0.5/24', '10.0.0.1')).toBe(true);
    expect(prefixContains('10.0.0.5/24', '10.0.1.1')).toBe(false);
    expect(prefixContains('10.0.0.5/32', '10.0.0.5')).toBe(true);
    expect(prefixContains('10.0.0.5/24', 'nope')).toBe(false);
  });

  test('host counts: network and broadcast skipped below /31', () => {
    expect(hostCount(parsePrefix('10.0.0.0/16')!)).toBe(65_534);
    expect(hostCount(parsePrefix('10.0.0.0/24')!)).toBe(254);
    expect(hostCount(parsePrefix('10.0.0.0/31')!)).toBe(2);
    expect(hostCount(parsePrefix('10.0.0.4/32')!)).toBe(1);
  });

  test('the walk over a /16 is lazy and complete, in order', () => {
    const walk = hostsOf(parsePrefix('10.20.0.0/16')!);
    expect(walk.next().value).toBe('10.20.0.1');
    let count = 1;
    let previous = '10.20.0.1';
    let ordered = true;
    for (const ip of walk) {
      if (compareIPv4(previous, ip) >= 0) ordered = false;
      previous = ip;
      count++;
    }
    expect([count, previous, ordered]).toEqual([65_534, '10.20.255.254', true]);
    expect([...hostsOf(parsePrefix('10.0.0.0/31')!)]).toEqual(['10.0.0.0', '10.0.0.1']);
    expect([...hostsOf(parsePrefix('10.0.0.9/32')!)]).toEqual(['10.0.0.9']);
    expect([...hostsOf(parsePrefix('10.0.0.0/30')!)]).toEqual(['10.0.0.1', '10.0.0.2']);
  });
});
