// talosctl's client config: `context: NAME` and `contexts: {NAME: {endpoints, nodes, ca, crt, key}}`,
// the three PEMs base64-encoded. Used for every call to a configured node (verify, status, and to see a
// node come back after apply). Pure parsing here; reading the file is resolveTalosconfigPath's caller's.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { ClientIdentity } from '../../talos/channel.ts';
import { decodeBase64Strict, parsePrivateKeyPem } from '../../pki/pem.ts';
import { UsageError } from '../usage-error.ts';

export interface Talosconfig {
  path: string;
  context: string;
  endpoints: string[];
  nodes: string[];
  identity: ClientIdentity;
}

/** --talosconfig, else $TALOSCONFIG, else ~/.talos/config (talosctl's order). */
export function talosconfigPath(flag: string | undefined, env: Record<string, string | undefined>, home: string = homedir()): string {
  return flag ?? (env.TALOSCONFIG && env.TALOSCONFIG !== '' ? env.TALOSCONFIG : join(home, '.talos', 'config'));
}

function pemOf(value: unknown, field: string, where: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`${where}: ${field} is missing; expected base64 of a PEM block`);
  const bytes = decodeBase64Strict(value);
  const text = bytes?.toString('utf8');
  if (!text || !text.includes('-----BEGIN ')) throw new UsageError(`${where}: ${field} is not base64 of a PEM block`);
  return text;
}

function stringList(value: unknown, field: string, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw new UsageError(`${where}: ${field} must be a list of addresses`);
  return value as string[];
}

export function parseTalosconfig(text: string, path: string, contextFlag?: string): Talosconfig {
  let doc: unknown;
  try {
    // logLevel error: a YAML warning would quote the offending line (the key's, say) on stderr.
    doc = parse(text, { logLevel: 'error' });
  } catch (e) {
    throw new UsageError(`talosconfig ${path} is not valid YAML: ${(e as Error).message.split('\n')[0]}`);
  }
  const root = (doc ?? {}) as { context?: unknown; contexts?: unknown };
  if (typeof root.contexts !== 'object' || root.contexts === null) throw new UsageError(`talosconfig ${path} has no contexts; expected "context:" and "contexts:" as talosctl writes them`);
  const contexts = root.contexts as Record<string, unknown>;
  const names = Object.keys(contexts);
  const name = contextFlag ?? (typeof root.context === 'string' ? root.context : undefined);
  if (!name) throw new UsageError(`talosconfig ${path} names no current context; pass --context (one of: ${names.join(', ') || 'none'})`);
  const ctx = contexts[name];
  if (typeof ctx !== 'object' || ctx === null) throw new UsageError(`talosconfig ${path} has no context "${name}"; contexts: ${names.join(', ') || 'none'}`);
  const c = ctx as Record<string, unknown>;
  const where = `talosconfig ${path}, context "${name}"`;
  const caPem = pemOf(c.ca, 'ca', where);
  const certPem = pemOf(c.crt, 'crt', where);
  const rawKey = pemOf(c.key, 'key', where);
  let keyPem: string;
  try {
    // Talos writes Ed25519 keys as "ED25519 PRIVATE KEY", which TLS libraries refuse: re-encode as PKCS#8.
    keyPem = parsePrivateKeyPem(rawKey, 'talosconfig key').export({ type: 'pkcs8', format: 'pem' }).toString();
  } catch (e) {
    throw new UsageError(`${where}: key cannot be read: ${(e as Error).message}`);
  }
  return {
    path,
    context: name,
    endpoints: stringList(c.endpoints, 'endpoints', where),
    nodes: stringList(c.nodes, 'nodes', where),
    identity: { caPem, certPem, keyPem },
  };
}
