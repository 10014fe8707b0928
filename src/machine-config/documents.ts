// A machine config split into its documents the way Talos's config loader does
// (pkg/machinery/config/configloader/internal/decoder/decoder.go): a YAML stream, null documents skipped,
// every other document a mapping. Its version is its `apiVersion`, or `v1alpha1` when it has a `machine`,
// `cluster`, `debug` or `persist` key (whichever key comes last wins, as in Talos's loop); a document with
// version v1alpha1 and no kind is the v1alpha1 machine config. Duplicates are found by (apiVersion, kind or
// "v1alpha1", name) as written.
import { LineCounter, parseAllDocuments } from 'yaml';

export interface ConfigDocument {
  /** 1-based line of the document's first key. */
  line: number;
  /** The version Talos decodes with ("" when none). */
  version: string;
  /** The kind as written ("" when none); `v1alpha1` for the machine config document. */
  kind: string;
  name: string;
  /** Talos's duplicate key: apiVersion/kind/name as written, kind "v1alpha1" when missing. */
  id: string;
  body: Record<string, unknown>;
}

export type SplitResult =
  | { ok: true; documents: ConfigDocument[] }
  | { ok: false; problem: 'not-yaml' | 'not-mapping'; line: number; detail: string };

const LEGACY_KEYS = new Set(['machine', 'cluster', 'debug', 'persist']);

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
    let version = '';
    for (const [key, v] of Object.entries(body)) {
      if (key === 'apiVersion') version = str(v);
      else if (LEGACY_KEYS.has(key)) version = 'v1alpha1';
    }
    const kind = str(body.kind);
    out.push({
      line,
      version,
      kind: kind === '' && version === 'v1alpha1' ? 'v1alpha1' : kind,
      name: str(body.name),
      id: `${str(body.apiVersion)}/${kind || 'v1alpha1'}/${str(body.name)}`,
      body,
    });
  }
  return { ok: true, documents: out };
}
