// From the bytes of config.yaml to a usable machine CA, as every credential source does it: every CA key
// type Talos allows in every label spelling and text layout, the v1alpha1 document anywhere in the
// stream, and each kind of damage with its own error.
import { describe, expect, test } from 'bun:test';
import { parseMachineConfigBytes } from '../../src/pki/config-bytes.ts';
import { controlPlaneCA } from '../../src/pki/machine-ca.ts';
import type { PkiError } from '../../src/pki/pem.ts';
import { b64, multiDoc, OTHER_DOCS, SECRET_CLUSTER, SECRET_TOKEN, v1alpha1Doc, type Base64Style } from '../fixtures/pki/config.ts';
import { pkiError } from '../fixtures/pki/expect-pki-error.ts';
import { generateKey, keyPem, LAYOUTS, makeCA, pemBody, relayout, YEAR_MS, type CAKind, type KeySpelling } from '../fixtures/pki/material.ts';

const KINDS: { kind: CAKind; keyType: string; labels: Record<KeySpelling, string> }[] = [
  { kind: 'ed25519', keyType: 'ed25519', labels: { talos: 'ED25519 PRIVATE KEY', pkcs8: 'PRIVATE KEY' } },
  { kind: 'p256', keyType: 'ecdsa', labels: { talos: 'EC PRIVATE KEY', pkcs8: 'PRIVATE KEY' } },
  { kind: 'rsa', keyType: 'rsa', labels: { talos: 'RSA PRIVATE KEY', pkcs8: 'PRIVATE KEY' } },
];
const material = new Map(KINDS.map(({ kind }) => {
  const keys = generateKey(kind);
  return [kind, { keys, ca: makeCA(kind, { keys }) }] as const;
}));

const STYLES: Base64Style[] = ['plain', 'folded', 'literal', 'quoted'];
const OTHERS = [OTHER_DOCS.extensionService, OTHER_DOCS.hostname, OTHER_DOCS.decoy];
type Position = 'first' | 'middle' | 'last';
function place(v1: string, where: Position): string[] {
  if (where === 'first') return [v1, ...OTHERS];
  if (where === 'last') return [...OTHERS, v1];
  return [OTHERS[0] as string, v1, ...OTHERS.slice(1)];
}

const cases = KINDS.flatMap(({ kind, keyType, labels }) =>
  (['talos', 'pkcs8'] as KeySpelling[]).flatMap((spelling) =>
    LAYOUTS.map((layout, i) => {
      const position = (['first', 'middle', 'last'] as Position[])[i % 3] as Position;
      const style = STYLES[i % STYLES.length] as Base64Style;
      const crlf = i % 2 === 1;
      return [`${kind} ${labels[spelling]} ${layout}, base64 ${style}, v1alpha1 ${position}${crlf ? ', CRLF + trailing spaces' : ''}`, { kind, keyType, label: labels[spelling], spelling, layout, position, style, crlf }] as const;
    }),
  ),
);

describe('config.yaml bytes → machine CA', () => {
  test.each(cases)('%s', (_name, c) => {
    const { keys, ca } = material.get(c.kind) as { keys: ReturnType<typeof generateKey>; ca: ReturnType<typeof makeCA> };
    const key = keyPem(keys.privateKey, c.spelling, c.layout);
    expect(key).toContain(`-----BEGIN ${c.label}-----`);
    const v1 = v1alpha1Doc({ type: 'controlplane', caCrtPem: relayout(ca.certPem, c.layout), caKeyPem: key, base64Style: c.style });
    const bytes = Buffer.from(multiDoc(place(v1, c.position), c.crlf ? '\r\n' : '\n', c.crlf));
    const facts = parseMachineConfigBytes(bytes, 'config.yaml');
    // Nothing of the file is left in the buffer it came in.
    expect(bytes.every((b) => b === 0)).toBe(true);
    const loaded = controlPlaneCA(facts);
    expect(loaded.keyType).toBe(c.keyType as typeof loaded.keyType);
    expect(loaded.certPem).toBe(relayout(ca.certPem, 'lf64'));
  });
});

describe('damaged or incomplete configs: each its own error, none quoting a secret', () => {
  const { keys, ca } = material.get('ed25519') as { keys: ReturnType<typeof generateKey>; ca: ReturnType<typeof makeCA> };
  const KEY = keyPem(keys.privateKey, 'talos');
  const good = multiDoc([OTHER_DOCS.extensionService, v1alpha1Doc({ type: 'controlplane', caCrtPem: ca.certPem, caKeyPem: KEY, base64Style: 'quoted' })]);
  const other = makeCA('ed25519');
  const expired = makeCA('ed25519', { keys, notBefore: new Date(Date.now() - 11 * YEAR_MS), notAfter: new Date(Date.now() - YEAR_MS) });
  const keyLine = good.indexOf('key: "') + 'key: "'.length;
  const withKey = (caKeyPem: string, caCrtPem = ca.certPem) => multiDoc([v1alpha1Doc({ type: 'controlplane', caCrtPem, caKeyPem })]);

  const table: [string, () => Buffer, PkiError['code'], RegExp][] = [
    ['empty file', () => Buffer.alloc(0), 'truncated', /config\.yaml is empty \(0 bytes\): truncated, or never written/],
    ['NUL bytes (a block of zeros from a torn write)', () => Buffer.concat([Buffer.from(good.slice(0, 300)), Buffer.alloc(4096)]), 'corrupted', /config\.yaml is corrupted: a NUL byte at offset 300/],
    ['not UTF-8', () => Buffer.concat([Buffer.from(good.slice(0, 50)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(good.slice(50))]), 'corrupted', /config\.yaml is corrupted: not valid UTF-8/],
    ['cut off inside the quoted key', () => Buffer.from(good.slice(0, keyLine + 40)), 'truncated', /not valid YAML.*ends mid-line \(\d+ bytes\), so it is probably truncated/],
    ['cut off before machine.ca.key (at a line end)', () => Buffer.from(good.slice(0, good.indexOf('        key:'))), 'no-ca-key', /control-plane machine config has no machine\.ca\.key/],
    ['control plane with key: ""', () => Buffer.from(withKey('')), 'no-ca-key', /has no machine\.ca\.key/],
    ['key is not PEM', () => Buffer.from(good.replace(/key: "LS0t[^"]*"/, `key: "${b64('not a key at all')}"`)), 'not-pem', /machine\.ca\.key decodes to 16 bytes of text with no "-----BEGIN" line/],
    ['key of another CA', () => Buffer.from(withKey(keyPem(other.privateKey, 'talos'))), 'key-mismatch', /does not match the machine CA certificate/],
    ['expired CA', () => Buffer.from(withKey(KEY, expired.certPem)), 'ca-expired', /machine CA certificate expired at/],
  ];
  test.each(table.map((row) => [row[0], row] as const))('%s', (_name, [, bytes, code, message]) => {
    const err = pkiError(() => controlPlaneCA(parseMachineConfigBytes(bytes(), 'config.yaml')));
    expect(err.code).toBe(code);
    expect(err.message).toMatch(message);
    for (const secret of [b64(KEY).slice(8, 48), pemBody(KEY).slice(4, 40), SECRET_TOKEN, SECRET_CLUSTER]) expect(err.message).not.toContain(secret);
  });

  test('every row fails for its own reason (the codes differ where the faults differ)', () => {
    const codes = new Set(table.map((r) => r[2]));
    expect(codes).toEqual(new Set(['truncated', 'corrupted', 'no-ca-key', 'not-pem', 'key-mismatch', 'ca-expired']));
    expect(controlPlaneCA(parseMachineConfigBytes(Buffer.from(good), 'config.yaml')).keyType).toBe('ed25519');
  });

  test('the buffer is zeroed even when parsing fails', () => {
    const bytes = Buffer.from(good.slice(0, keyLine + 40));
    expect(() => parseMachineConfigBytes(bytes, 'config.yaml')).toThrow();
    expect(bytes.every((b) => b === 0)).toBe(true);
  });
});
