// A machine config split into its documents the way Talos's config loader does
// (pkg/machinery/config/configloader/internal/decoder/decoder.go): a YAML stream, null documents skipped,
// every other document a mapping identified by apiVersion, kind (a missing kind with `version`, `machine`,
// `cluster`, `debug` or `persist` is the legacy v1alpha1 document) and `name`.
import { LineCounter, parseAllDocuments } from 'yaml';

export interface ConfigDocument {
  /** 1-based line of the document's first key. */
  line: number;
  apiVersion: string;
  /** The document kind; `v1alpha1` for the legacy machine config document. */
  kind: string;
  name: string;
  body: Record<string, unknown>;
}

export type SplitResult =
  | { ok: true; documents: ConfigDocument[] }
  | { ok: false; problem: 'not-yaml' | 'not-mapping'; line: number; detail: string };

const LEGACY_KEYS = ['version', 'machine', 'cluster', 'debug', 'persist'];

const str = (v: unknown): string => (typeof v === 'string' ? v : '');

/**
 * Splits the text into documents. Never throws; a YAML error names its code and position only (a parser
 * message may quote the line, and the config holds the cluster's secrets).
 */
export function splitDocuments(text: string): SplitResult {
  const lineCounter = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const out: ConfigDocument[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      return { ok: false, problem: 'not-yaml', line: pos?.line ?? 0, detail: err.code };
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      return { ok: false, problem: 'not-yaml', line: 0, detail: (e as Error).name };
    }
    const line = doc.contents?.range ? lineCounter.linePos(doc.contents.range[0]).line : 0;
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value)) {
      return { ok: false, problem: 'not-mapping', line, detail: Array.isArray(value) ? 'a list' : `a ${typeof value}` };
    }
    const body = value as Record<string, unknown>;
    const legacy = body.kind === undefined && LEGACY_KEYS.some((k) => k in body);
    out.push({
      line,
      apiVersion: legacy ? str(body.version) || 'v1alpha1' : str(body.apiVersion),
      kind: str(body.kind) || (legacy ? 'v1alpha1' : ''),
      name: str(body.name),
      body,
    });
  }
  return { ok: true, documents: out };
}
