// No secret in any log: every line a daemon or an operator command prints in an end-to-end test or the
// demo is scanned for the simulated cluster's secrets. The harnesses (cluster-harness.ts,
// operator-harness.ts, scripts/demo*.ts) call assertNoSecrets when they close, so every test that uses them
// is checked; test/e2e/secret-leak.test.ts proves a leaky build makes the check fail.
//
// What counts as a leak, for the OS CA key and the etcd CA key (and the other private keys of the machine
// config): the PEM block itself or any PEM block at all; the base64 of the PEM as the machine config holds
// it; the base64 body of the PEM; the raw key bytes (DER) as raw bytes, hex, base64, or Node's
// {"type":"Buffer","data":[...]} decimal list; and for the secret strings (machine token, cluster token,
// cluster secret, secretbox secret) the value itself. A fragment of 24 characters from the start, the
// middle or the end of any of these is a hit: long enough never to occur by chance, short enough to catch a
// truncated leak.
import type { KeyObject } from 'node:crypto';
import type { ClusterIdentity } from '../sim/cluster-identity.ts';

export interface Needle {
  /** What leaked, e.g. "OS CA key (base64 of the PEM)". Never the secret itself. */
  what: string;
  fragments: string[];
}

export interface OutputLine {
  /** Who printed it: "cp1 daemon stdout", "autobootstrap apply stderr", "demo console". */
  source: string;
  text: string;
}

export interface SecretHit {
  source: string;
  /** 1-based line number within that source. */
  line: number;
  what: string;
}

const FRAGMENT = 24;

function fragments(s: string): string[] {
  if (s.length <= FRAGMENT) return [s];
  const mid = Math.floor((s.length - FRAGMENT) / 2);
  return [s.slice(0, FRAGMENT), s.slice(mid, mid + FRAGMENT), s.slice(-FRAGMENT)];
}

const pemBody = (pem: string): string => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

/** Every form a private key may take in a log line. */
function keyNeedles(name: string, key: KeyObject | undefined, talosPem: string, pkcs8Pem?: string): Needle[] {
  const out: Needle[] = [
    { what: `${name} (base64 of the PEM, as in the machine config)`, fragments: fragments(Buffer.from(talosPem).toString('base64')) },
    { what: `${name} (PEM body)`, fragments: fragments(pemBody(talosPem)) },
  ];
  if (pkcs8Pem) out.push({ what: `${name} (PKCS#8 PEM body)`, fragments: fragments(pemBody(pkcs8Pem)) });
  const ders: Buffer[] = [Buffer.from(pemBody(talosPem), 'base64')];
  if (key) ders.push(key.export({ type: 'pkcs8', format: 'der' }));
  for (const der of ders) {
    // The private scalar or seed sits at the end of the DER; a short slice from there is the secret.
    const tail = der.subarray(der.length - 32);
    out.push(
      { what: `${name} (raw bytes)`, fragments: [tail.subarray(0, 16).toString('latin1'), tail.subarray(16).toString('latin1')] },
      { what: `${name} (hex)`, fragments: fragments(tail.toString('hex')) },
      { what: `${name} (base64 of the raw bytes)`, fragments: fragments(tail.toString('base64')).concat(fragments(tail.toString('base64url'))) },
      { what: `${name} (as a Buffer's decimal list)`, fragments: [Array.from(tail.subarray(0, 12)).join(',')] },
    );
  }
  return out;
}

/** Every secret of one simulated cluster identity, in every form it could be logged. */
export function secretNeedles(id: ClusterIdentity): Needle[] {
  return [
    ...keyNeedles('OS CA key', id.osCa.key, id.osCa.talosKeyPem, id.osCa.keyPem),
    ...keyNeedles('etcd CA key', id.etcdCa.key, id.etcdCa.talosKeyPem, id.etcdCa.keyPem),
    ...keyNeedles('Kubernetes CA key', id.k8sCa.key, id.k8sCa.talosKeyPem, id.k8sCa.keyPem),
    ...keyNeedles('aggregator CA key', id.aggregatorCa.key, id.aggregatorCa.talosKeyPem, id.aggregatorCa.keyPem),
    ...keyNeedles('service account key', undefined, id.serviceAccountKeyPem),
    { what: 'machine token', fragments: [id.machineToken] },
    { what: 'cluster token', fragments: [id.clusterToken] },
    { what: 'cluster secret', fragments: fragments(id.clusterSecret) },
    { what: 'secretbox encryption secret', fragments: fragments(id.secretboxEncryptionSecret) },
  ];
}

/** Any PEM block (certificate or key): a log line never carries one. */
const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----/;

/** Every hit of any needle (or of a PEM block) in any line. Empty: nothing leaked. */
export function scanForSecrets(lines: OutputLine[], needles: Needle[]): SecretHit[] {
  const counters = new Map<string, number>();
  const hits: SecretHit[] = [];
  for (const { source, text } of lines) {
    const n = (counters.get(source) ?? 0) + 1;
    counters.set(source, n);
    // JSON log lines escape "/" and "+" never, but may escape "\n" inside a PEM: unescape once to see it.
    const seen = text.includes('\\n') ? `${text}\n${text.replaceAll('\\n', '\n')}` : text;
    if (PEM_BLOCK.test(seen)) hits.push({ source, line: n, what: 'a PEM block' });
    for (const needle of needles) if (needle.fragments.some((f) => seen.includes(f))) hits.push({ source, line: n, what: needle.what });
  }
  return hits;
}

/** Splits captured text into lines for one source. */
export function linesOf(source: string, text: string | string[]): OutputLine[] {
  const all = Array.isArray(text) ? text : text.split('\n');
  return all.filter((t) => t.length > 0).map((t) => ({ source, text: t }));
}

/**
 * Throws when any line holds a secret of any of the identities, naming the source, the line number and what
 * leaked (never the secret). Returns how many lines were scanned.
 */
export function assertNoSecrets(lines: OutputLine[], identities: ClusterIdentity[]): number {
  const hits = scanForSecrets(lines, identities.flatMap(secretNeedles));
  if (hits.length > 0) {
    const shown = hits.slice(0, 20).map((h) => `  ${h.source} line ${h.line}: ${h.what}`);
    throw new Error(`secret in the output: ${hits.length} hit(s) in ${lines.length} lines\n${shown.join('\n')}`);
  }
  return lines.length;
}

/** From now on, every console.log line is also kept in the returned array (the demo's own output). */
export function captureConsole(): string[] {
  const printed: string[] = [];
  const log = console.log.bind(console);
  console.log = (...args: unknown[]) => {
    printed.push(...args.map((a) => (typeof a === 'string' ? a : Bun.inspect(a))).join(' ').split('\n'));
    log(...args);
  };
  return printed;
}
