// The few facts autobootstrap needs from a Talos machine config.
// The config is multi-document YAML and holds every secret of the cluster; only the OS CA, the machine
// type, the hostname, the cluster name and whether etcd has a CA leave this module. Nothing from the
// source text is ever put into an error message: a YAML parser error quotes the offending line, which
// may be a key, so only its code and position are reported.
import { parseAllDocuments } from 'yaml';
import { decodeBase64Strict, parsePemBlocks, PkiError } from './pem.ts';

export type MachineType = 'controlplane' | 'init' | 'worker' | 'unknown';

export interface MachineConfigFacts {
  machineType: MachineType;
  hostname?: string;
  caCertPem?: string;
  caKeyPem?: string;
  etcdConfigured: boolean;
  clusterName?: string;
}

// Friendlier words for the YAML errors a damaged or truncated file produces.
const YAML_HINTS: Record<string, string> = {
  MISSING_CHAR: 'a closing quote or bracket is missing (truncated file?)',
  BAD_INDENT: 'inconsistent indentation',
  UNEXPECTED_TOKEN: 'unexpected token',
  TAB_AS_INDENT: 'a tab is used for indentation',
  MULTILINE_IMPLICIT_KEY: 'a mapping key spans lines (truncated or mis-indented value?)',
  DUPLICATE_KEY: 'a key appears twice in one mapping',
  BLOCK_AS_IMPLICIT_KEY: 'a block value is used as a key',
};

type Json = unknown;
const isMap = (v: Json): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Talos's machine.ParseType: "join" and an empty or missing type are read as worker, "unknown" is a
 * valid value, anything else is refused.
 */
function machineTypeOf(value: Json): MachineType {
  if (value === undefined || value === null || value === '') return 'worker';
  if (value === 'join') return 'worker';
  if (value === 'controlplane' || value === 'init' || value === 'worker' || value === 'unknown') return value;
  const shown = typeof value === 'string' ? `"${value.slice(0, 40)}"` : `a ${Array.isArray(value) ? 'list' : typeof value}`;
  throw new PkiError(
    'bad-machine-type',
    `machine.type is ${shown}; expected controlplane, init, worker (or join), or unknown`,
    'machine.type',
  );
}

function optionalString(value: Json, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new PkiError('bad-field', `${field} is a ${Array.isArray(value) ? 'list' : typeof value}; expected a string`, field);
  }
  return value;
}

function optionalMap(value: Json, field: string): Record<string, Json> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isMap(value)) throw new PkiError('bad-field', `${field} is not a mapping`, field);
  return value;
}

/**
 * A base64-of-PEM field (`machine.ca.crt`, `machine.ca.key`, and OSRootSecrets' `issuingCA.crt`/`.key`, which
 * Talos encodes the same way). "" means absent, as in worker configs.
 * The base64 may be wrapped across lines (folded or literal YAML blocks), so whitespace is dropped.
 */
export function pemField(value: Json, field: string, wantLabel?: string): string | undefined {
  const text = optionalString(value, field);
  if (text === undefined || text.trim() === '') return undefined;
  const bytes = decodeBase64Strict(text);
  if (bytes === undefined) {
    throw new PkiError('bad-base64', `${field} is not valid base64 (${text.length} characters); expected base64 of a PEM block`, field);
  }
  const pem = bytes.toString('utf8');
  // Real PEM is ASCII; anything else decoded from base64 is garbage, whatever it happens to contain.
  if (!/^[\x09\x0a\x0d\x20-\x7e]*$/.test(pem)) {
    throw new PkiError('not-pem', `${field} decodes to ${bytes.length} bytes of binary data, not PEM text; expected base64 of a PEM block`, field);
  }
  const blocks = parsePemBlocks(pem, field);
  if (blocks.length === 0) {
    throw new PkiError('not-pem', `${field} decodes to ${bytes.length} bytes of text with no "-----BEGIN" line; expected base64 of a PEM block`, field);
  }
  if (wantLabel && !blocks.some((b) => b.label === wantLabel)) {
    const labels = blocks.map((b) => `"${b.label}"`).join(', ');
    throw new PkiError('not-pem', `${field} holds ${labels}; expected a ${wantLabel} PEM block`, field);
  }
  return pem;
}

/** The parsed documents of the stream, refusing the whole file if any part of it is not YAML. */
function documents(text: string): Json[] {
  // logLevel error: a YAML warning (unknown tag, collection key) would print the offending line, key material
  // included, on stderr.
  const docs = parseAllDocuments(text, { logLevel: 'error' });
  if (!Array.isArray(docs)) return [];
  const out: Json[] = [];
  for (const [i, doc] of docs.entries()) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      const hint = YAML_HINTS[err.code] ? `: ${YAML_HINTS[err.code]}` : '';
      throw new PkiError('not-yaml', `machine config is not valid YAML (document ${i + 1}, ${err.code}${where}${hint})`);
    }
    try {
      out.push(doc.toJS());
    } catch (e) {
      // toJS fails on alias bombs and unresolved aliases; its message may quote the text.
      throw new PkiError('not-yaml', `machine config document ${i + 1} cannot be read as data (${(e as Error).name})`);
    }
  }
  return out;
}

/** Talos decodes a document without apiVersion/kind but with `version` as the legacy v1alpha1 config. */
function isV1alpha1(doc: Json): doc is Record<string, Json> {
  return isMap(doc) && doc.version === 'v1alpha1' && doc.kind === undefined && doc.apiVersion === undefined;
}

export function parseMachineConfig(text: string): MachineConfigFacts {
  const docs = documents(text);
  const candidates = docs.filter(isV1alpha1);
  if (candidates.length === 0) {
    const kinds = docs.filter(isMap).map((d) => (typeof d.kind === 'string' ? d.kind : '?'));
    const seen = docs.length === 0 ? 'the file is empty' : `found ${docs.length} document(s)${kinds.length ? `: ${kinds.join(', ')}` : ''}`;
    throw new PkiError('no-v1alpha1', `machine config has no v1alpha1 document (one with "version: v1alpha1" and a machine section); ${seen}`);
  }
  if (candidates.length > 1) {
    throw new PkiError('no-v1alpha1', `machine config has ${candidates.length} v1alpha1 documents; Talos accepts exactly one`);
  }
  const root = candidates[0] as Record<string, Json>;
  const machine = optionalMap(root.machine, 'machine');
  if (!machine) throw new PkiError('bad-field', 'the v1alpha1 document has no machine section', 'machine');

  const ca = optionalMap(machine.ca, 'machine.ca');
  const network = optionalMap(machine.network, 'machine.network');
  const cluster = optionalMap(root.cluster, 'cluster');
  const etcd = optionalMap(cluster?.etcd, 'cluster.etcd');
  const etcdCa = optionalMap(etcd?.ca, 'cluster.etcd.ca');
  const etcdCrt = optionalString(etcdCa?.crt, 'cluster.etcd.ca.crt');

  const facts: MachineConfigFacts = {
    machineType: machineTypeOf(machine.type),
    etcdConfigured: etcdCrt !== undefined && etcdCrt.trim() !== '',
  };
  const hostname = optionalString(network?.hostname, 'machine.network.hostname');
  if (hostname) facts.hostname = hostname;
  // Talos v1.14's generator moves the name into a KubeClusterConfig document (pkg/machinery/config/types/k8s).
  const kubeCluster = docs.find((d) => isMap(d) && d.kind === 'KubeClusterConfig') as Record<string, Json> | undefined;
  const clusterName =
    optionalString(cluster?.clusterName, 'cluster.clusterName') ?? optionalString(kubeCluster?.clusterName, 'KubeClusterConfig clusterName');
  if (clusterName) facts.clusterName = clusterName;
  const caCertPem = pemField(ca?.crt, 'machine.ca.crt', 'CERTIFICATE');
  if (caCertPem) facts.caCertPem = caCertPem;
  const caKeyPem = pemField(ca?.key, 'machine.ca.key');
  if (caKeyPem) facts.caKeyPem = caKeyPem;
  return facts;
}
