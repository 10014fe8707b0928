// Regression (found by test/fuzz): the yaml library prints a warning for an unknown tag, an unknown directive
// or a collection used as a key, and the warning quotes the offending line on stderr. For a talosconfig, a
// machine config, a plan or a COSI yaml_spec (OSRootSecrets holds the CA key) that line can be key material.
// Every parser of such input is quiet; a spec that is not YAML is a DATA_LOSS error naming its length only.
import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import { parsePlan } from '../../src/cli/inputs/plan.ts';
import { parseTalosconfig } from '../../src/cli/inputs/talosconfig.ts';
import { UsageError } from '../../src/cli/usage-error.ts';
import { parseMachineConfig } from '../../src/pki/machine-config.ts';
import { resourceFromReply, TalosCallError } from '../../src/talos/node-client.ts';

const SECRETISH = 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1DNENBUUF3QlFZREsyVndCQ0lFSUpQ';
let warnings: string[] = [];
const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
});

/** Lets process.emitWarning's deferred 'warning' event arrive before the check. */
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('no YAML warning quotes an input', () => {
  test('talosconfig with a tag on the key line', async () => {
    const text = `context: sim\ncontexts:\n  sim:\n    endpoints: [10.0.0.1]\n    ca: !foo ${SECRETISH}\n    crt: x\n    key: !bar ${SECRETISH}\n`;
    expect(() => parseTalosconfig(text, 'talosconfig')).toThrow(UsageError);
    await settle();
    expect(warnings).toEqual([]);
  });

  test('machine config with an unknown directive, a tag and a collection key', async () => {
    const text = `%FOO bar\n---\nversion: v1alpha1\nmachine:\n  type: controlplane\n  token: !t ${SECRETISH}\n  ? [a, b]\n  : c\n`;
    expect(parseMachineConfig(text).machineType).toBe('controlplane');
    await settle();
    expect(warnings).toEqual([]);
  });

  test('plan file with a tag', async () => {
    parsePlan(`nodes:\n  - address: !x 10.0.0.1\n    file: a.yaml\n`, '/plan.yaml');
    await settle();
    expect(warnings).toEqual([]);
  });

  test('a COSI yaml_spec with a tag: parsed quietly; one that is not YAML: DATA_LOSS naming only its length', async () => {
    expect(resourceFromReply({ metadata: { id: 'os' }, spec: { yaml_spec: `issuingCA: !foo ${SECRETISH}\n` } }, 'Get').spec).toEqual({ issuingCA: SECRETISH });
    let error: unknown;
    try {
      resourceFromReply({ metadata: { id: 'os' }, spec: { yaml_spec: `key: "${SECRETISH}\n  : [` } }, 'Get');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TalosCallError);
    expect((error as TalosCallError).code).toBe(grpc.status.DATA_LOSS);
    expect((error as TalosCallError).message).not.toContain(SECRETISH.slice(0, 20));
    await settle();
    expect(warnings).toEqual([]);
  });
});
