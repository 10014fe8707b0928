import { describe, expect, test } from 'bun:test';
import { parseMachineConfig, type MachineConfigFacts } from '../../src/pki/machine-config.ts';
import { PkiError } from '../../src/pki/pem.ts';
import { b64, multiDoc, OTHER_DOCS, SECRET_CLUSTER, SECRET_TOKEN, v1alpha1Doc, type Base64Style } from '../fixtures/pki/config.ts';
import { generateKey, keyPem, makeCA, pemBody } from '../fixtures/pki/material.ts';
import { pkiError } from '../fixtures/pki/expect-pki-error.ts';

const pair = generateKey('ed25519');
const ca = makeCA('ed25519', { keys: pair });
const KEY_PEM = keyPem(pair.privateKey, 'talos');
const KEY_B64 = b64(KEY_PEM);


/** No part of the key, in any encoding, may appear in an error message. */
function expectNoKeyMaterial(message: string): void {
  for (const secret of [KEY_B64, KEY_B64.slice(20, 60), pemBody(KEY_PEM), pemBody(KEY_PEM).slice(10, 40), SECRET_TOKEN, SECRET_CLUSTER]) {
    expect(message).not.toContain(secret);
  }
}

const controlPlane = (extra: Partial<Parameters<typeof v1alpha1Doc>[0]> = {}) =>
  v1alpha1Doc({ type: 'controlplane', hostname: 'cp-1', caCrtPem: ca.certPem, caKeyPem: KEY_PEM, ...extra });

describe('parseMachineConfig: where the v1alpha1 document is', () => {
  const others = [OTHER_DOCS.extensionService, OTHER_DOCS.hostname, OTHER_DOCS.sideroLink, OTHER_DOCS.decoy];
  test.each([
    ['alone', [controlPlane()]],
    ['first', [controlPlane(), ...others]],
    ['in the middle', [OTHER_DOCS.extensionService, OTHER_DOCS.decoy, controlPlane(), OTHER_DOCS.hostname, OTHER_DOCS.sideroLink]],
    ['last', [...others, controlPlane()]],
    ['after an empty document', ['', controlPlane(), OTHER_DOCS.sideroLink]],
  ])('%s', (_name, docs) => {
    const facts = parseMachineConfig(multiDoc(docs));
    expect(facts).toEqual({
      machineType: 'controlplane',
      hostname: 'cp-1',
      caCertPem: ca.certPem,
      caKeyPem: KEY_PEM,
      etcdConfigured: true,
      clusterName: 'lab',
    });
  });

  test('returns only the facts, none of the other secrets', () => {
    const facts = parseMachineConfig(multiDoc([OTHER_DOCS.extensionService, controlPlane()]));
    expect(Object.keys(facts).sort()).toEqual(['caCertPem', 'caKeyPem', 'clusterName', 'etcdConfigured', 'hostname', 'machineType']);
    const dump = JSON.stringify(facts);
    expect(dump).not.toContain(SECRET_TOKEN);
    expect(dump).not.toContain(SECRET_CLUSTER);
    expect(dump).not.toContain('autobootstrap'); // from the ExtensionServiceConfig
  });

  test('a typed document that also says version: v1alpha1 and machine: is not the config', () => {
    // The decoy claims type worker; the real document says controlplane.
    expect(parseMachineConfig(multiDoc([OTHER_DOCS.decoy, controlPlane()])).machineType).toBe('controlplane');
  });

  test('the hostname comes from machine.network.hostname only', () => {
    const facts = parseMachineConfig(multiDoc([controlPlane({ hostname: undefined }), OTHER_DOCS.hostname]));
    expect(facts.hostname).toBeUndefined();
  });
});

describe('parseMachineConfig: machine types', () => {
  test.each([
    ['controlplane', 'controlplane'],
    ['init', 'init'],
    ['worker', 'worker'],
    // Talos's machine.ParseType: "join" and "" are worker, "unknown" is a valid value.
    ['join', 'worker'],
    ['""', 'worker'],
    ['unknown', 'unknown'],
  ])('machine.type %s → %s', (type, expected) => {
    expect(parseMachineConfig(controlPlane({ type })).machineType).toBe(expected as MachineConfigFacts['machineType']);
  });

  test('a missing machine.type is a worker, as Talos reads it', () => {
    expect(parseMachineConfig(controlPlane({ type: null })).machineType).toBe('worker');
  });

  test('a worker config: key "" means no key', () => {
    const facts = parseMachineConfig(multiDoc([v1alpha1Doc({ type: 'worker', caCrtPem: ca.certPem, caKeyPem: '' }), OTHER_DOCS.extensionService]));
    expect(facts.machineType).toBe('worker');
    expect(facts.caCertPem).toBe(ca.certPem);
    expect(facts.caKeyPem).toBeUndefined();
    expect('caKeyPem' in facts).toBe(false);
  });

  test('etcdConfigured follows cluster.etcd.ca.crt', () => {
    expect(parseMachineConfig(controlPlane({ etcdCaCrt: null })).etcdConfigured).toBe(false);
    expect(parseMachineConfig(controlPlane({ etcdCaCrt: '""' })).etcdConfigured).toBe(false);
    expect(parseMachineConfig(controlPlane()).etcdConfigured).toBe(true);
  });

  test.each([
    ['bogus', /machine\.type is "bogus"; expected controlplane, init, worker/],
    ['ControlPlane', /machine\.type is "ControlPlane"/],
    ['[controlplane]', /machine\.type is a list/],
    ['42', /machine\.type is a number/],
  ])('machine.type %s is refused', (type, message) => {
    const err = pkiError(() => parseMachineConfig(controlPlane({ type })));
    expect(err.code).toBe('bad-machine-type');
    expect(err.field).toBe('machine.type');
    expect(err.message).toMatch(message);
  });
});

describe('parseMachineConfig: text layouts', () => {
  const styles: Base64Style[] = ['plain', 'quoted', 'folded', 'literal'];
  const cases = styles.flatMap((style) =>
    (['\n', '\r\n'] as const).flatMap((eol) => [false, true].map((ws) => [`${style} ${eol === '\n' ? 'LF' : 'CRLF'}${ws ? ' trailing-ws' : ''}`, style, eol, ws] as const)),
  );
  test.each(cases)('base64 %s', (_name, style, eol, ws) => {
    const text = multiDoc([OTHER_DOCS.sideroLink, controlPlane({ base64Style: style }), OTHER_DOCS.extensionService], eol, ws);
    if (style === 'folded' || style === 'literal') expect(text).toMatch(/key: [>|]/);
    if (eol === '\r\n') expect(text).toContain('\r\n');
    const facts = parseMachineConfig(text);
    expect(facts.machineType).toBe('controlplane');
    expect(facts.caKeyPem).toBe(KEY_PEM);
    expect(facts.caCertPem).toBe(ca.certPem);
    expect(facts.hostname).toBe('cp-1');
  });

  test('the base64 may itself hold a CRLF PEM', () => {
    const crlfKey = KEY_PEM.replace(/\n/g, '\r\n');
    expect(parseMachineConfig(controlPlane({ caKeyPem: crlfKey })).caKeyPem).toBe(crlfKey);
  });
});

describe('parseMachineConfig: malformed input, each with its own message', () => {
  const good = multiDoc([controlPlane(), OTHER_DOCS.extensionService]);
  // Cut in the middle of the key's base64 inside a quoted scalar: the quote never closes.
  const quoted = multiDoc([controlPlane({ base64Style: 'quoted' })]);
  const keyAt = quoted.indexOf('key: "') + 'key: "'.length;

  const cases: Array<[string, string, PkiError['code'], RegExp, string?]> = [
    ['not YAML at all', 'machine: [controlplane\n  ca: {crt: x', 'not-yaml', /not valid YAML \(document 1, \w+ at line \d+, column \d+/],
    ['truncated inside a quoted key', quoted.slice(0, keyAt + 120), 'not-yaml', /not valid YAML.*MISSING_CHAR at line \d+.*truncated/],
    ['tab indentation', 'version: v1alpha1\nmachine:\n\ttype: controlplane\n', 'not-yaml', /not valid YAML/],
    ['duplicate key', 'version: v1alpha1\nmachine:\n  type: worker\n  type: controlplane\n', 'not-yaml', /DUPLICATE_KEY/],
    ['empty file', '', 'no-v1alpha1', /no v1alpha1 document.*the file is empty/],
    ['only other kinds', multiDoc([OTHER_DOCS.extensionService, OTHER_DOCS.hostname]), 'no-v1alpha1', /no v1alpha1 document.*found 2 document\(s\): ExtensionServiceConfig, HostnameConfig/],
    ['a scalar document', 'just a string\n', 'no-v1alpha1', /no v1alpha1 document/],
    ['two v1alpha1 documents', multiDoc([controlPlane(), controlPlane()]), 'no-v1alpha1', /2 v1alpha1 documents/],
    ['v1alpha1 without machine', 'version: v1alpha1\ncluster: {}\n', 'bad-field', /no machine section/, 'machine'],
    ['machine is a list', 'version: v1alpha1\nmachine: [a, b]\n', 'bad-field', /^machine is not a mapping/, 'machine'],
    ['hostname is a map', 'version: v1alpha1\nmachine:\n  network:\n    hostname: {a: 1}\n', 'bad-field', /machine\.network\.hostname is a object; expected a string/, 'machine.network.hostname'],
    ['key is not base64', controlPlane().replace(/key: LS0t\S*/, 'key: this-is-not*base64!'), 'bad-base64', /machine\.ca\.key is not valid base64/, 'machine.ca.key'],
    ['key is base64 of non-PEM text', controlPlane().replace(/key: LS0t\S*/, `key: ${b64('just some words, no armour here')}`), 'not-pem', /machine\.ca\.key decodes to 31 bytes of text with no "-----BEGIN" line/, 'machine.ca.key'],
    ['key is base64 of binary garbage', controlPlane().replace(/key: LS0t\S*/, `key: ${Buffer.from([0, 159, 146, 150, 255, 1, 2, 3, 200, 201]).toString('base64')}`), 'not-pem', /machine\.ca\.key decodes to 10 bytes of binary data, not PEM text/, 'machine.ca.key'],
    ['key PEM cut short', controlPlane({ caKeyPem: KEY_PEM.slice(0, KEY_PEM.indexOf('-----END')) }), 'bad-pem', /machine\.ca\.key: PEM block "ED25519 PRIVATE KEY" has no matching/],
    ['crt is a key', controlPlane({ caCrtPem: KEY_PEM }), 'not-pem', /machine\.ca\.crt holds "ED25519 PRIVATE KEY"; expected a CERTIFICATE PEM block/, 'machine.ca.crt'],
    ['crt is a number', controlPlane().replace(/crt: LS0t\S*/, 'crt: 12345'), 'bad-field', /machine\.ca\.crt is a number; expected a string/, 'machine.ca.crt'],
  ];
  // Bun hands a `done` callback to any parameter a row leaves unfilled, so rows are passed whole.
  test.each(cases.map((c) => [c[0], c] as const))('%s', (_name, [, text, code, message, field]) => {
    const err = pkiError(() => parseMachineConfig(text));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    if (field) expect(err.field).toBe(field);
    expectNoKeyMaterial(err.message);
  });

  test('the good config parses (so each case above fails for its own reason)', () => {
    expect(parseMachineConfig(good).caKeyPem).toBe(KEY_PEM);
  });

  test('a YAML error on the very line holding the key does not echo the line', () => {
    // The parser library's own message would quote this line; ours must not.
    const text = `version: v1alpha1\nmachine:\n  ca:\n    key: "${KEY_B64}\n`;
    const err = pkiError(() => parseMachineConfig(text));
    expect(err.code).toBe('not-yaml');
    expectNoKeyMaterial(err.message);
    expect(err.message).not.toContain('LS0t');
  });

  test('truncated at a line boundary, the missing key is simply absent (caught by controlPlaneCA)', () => {
    const text = controlPlane();
    const cut = text.slice(0, text.indexOf('        key:'));
    const facts = parseMachineConfig(cut);
    expect(facts.caKeyPem).toBeUndefined();
    expect(facts.machineType).toBe('controlplane');
  });
});
