// The output formats every operator command offers, spelled as talosctl spells them (`-o json|yaml|table`):
// `table` (the default, also called `text`) is the human report; json and yaml carry the same verdicts,
// problems and warnings as fields.
import { stringify } from 'yaml';
import { UsageError } from '../usage-error.ts';
import type { Io } from './report.ts';

export const OUTPUT_FORMATS = ['table', 'text', 'json', 'yaml'] as const;
export type OutputFormat = 'table' | 'json' | 'yaml';

/** `-o VALUE`: text is table's other name. Anything else is a usage error naming the valid values. */
export function parseOutput(value: string | undefined): OutputFormat {
  const v = value ?? 'table';
  if (v === 'text' || v === 'table') return 'table';
  if (v === 'json' || v === 'yaml') return v;
  throw new UsageError(`--output "${v}" is not valid; use one of ${OUTPUT_FORMATS.join(', ')}`);
}

/** Writes the result: the text report for table, else the structured value. */
export function emit(io: Io, format: OutputFormat, value: unknown, text: () => string): void {
  if (format === 'json') io.out(JSON.stringify(value, null, 2) + '\n');
  else if (format === 'yaml') io.out(stringify(value, { aliasDuplicateObjects: false }));
  else io.out(text());
}
