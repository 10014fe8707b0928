// Once the agreement has chosen the bootstrapper, it leads in decide() whatever the boot times say: a
// reboot that moves its boot time does not move it, and nobody else arms.
import { describe, expect, test } from 'bun:test';
import { decide } from '../../src/bootstrap/core/decide.ts';
import { cp, obs } from './core-fixtures.ts';

// 10.0.0.1 booted first; 10.0.0.3 was chosen (its boot time moved after the choice).
const CPS = [cp('10.0.0.1', 100), cp('10.0.0.2', 200), cp('10.0.0.3', 900)];

describe('decide with a chosen bootstrapper', () => {
  test('without a choice the oldest boot time leads', () => {
    expect(decide({ observation: obs('10.0.0.1', CPS), quorumNodes: 2, armed: undefined }).kind).toBe('arm');
  });
  test('the chosen node arms and bootstraps though it booted last', () => {
    expect(decide({ observation: obs('10.0.0.3', CPS), quorumNodes: 2, armed: undefined, chosen: 'id-10.0.0.3' }).kind).toBe('arm');
    expect(decide({ observation: obs('10.0.0.3', CPS), quorumNodes: 2, armed: 'id-10.0.0.3', chosen: 'id-10.0.0.3' }).kind).toBe('bootstrap');
  });
  test('the oldest node follows the chosen one', () => {
    const d = decide({ observation: obs('10.0.0.1', CPS), quorumNodes: 2, armed: 'id-10.0.0.1', chosen: 'id-10.0.0.3' });
    expect(d).toMatchObject({ kind: 'wait', reason: 'leader-changed', leader: '10.0.0.3' });
  });
  test('a chosen node out of sight: everyone waits for it, nobody else arms', () => {
    const d = decide({ observation: obs('10.0.0.1', CPS.slice(0, 2)), quorumNodes: 2, armed: undefined, chosen: 'id-10.0.0.3' });
    expect(d).toMatchObject({ kind: 'wait', reason: 'follower' });
    expect(d.message).toContain('id-10.0.0.3 was chosen by agreement');
  });
});
