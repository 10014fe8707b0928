// Command-line flags spelled as talosctl spells them: `--nodes=a,b`, `--nodes a`, `-n a`, `--insecure`.
// Used for autobootstrap's own argv and for the talosctl lines talhelper generates, so both read alike.
import { UsageError } from '../usage-error.ts';

export type FlagKind = 'string' | 'bool' | 'list';

export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  help: string;
  default?: string;
}

export type FlagValues = Map<string, string | boolean | string[]>;

export interface ParsedFlags {
  values: FlagValues;
  positional: string[];
}

function describe(specs: FlagSpec[]): string {
  return specs.map((s) => `--${s.name}${s.short ? `/-${s.short}` : ''}`).join(', ');
}

/**
 * Parses `args` against `specs`. An unknown flag or a missing value is a UsageError naming it and the
 * valid flags; `where` prefixes the message (e.g. "line 3 of talhelper output").
 */
export function parseFlags(args: string[], specs: FlagSpec[], where = ''): ParsedFlags {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  const values: FlagValues = new Map();
  const positional: string[] = [];
  const prefix = where ? `${where}: ` : '';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    let shown = arg;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      shown = `--${name}`;
      spec = byName.get(name);
    } else if (arg.startsWith('-') && arg.length > 1) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(1, eq) : arg.slice(1, 2);
      // -n10.0.0.1 as pflag allows: the rest of the word is the value.
      inline = eq >= 0 ? arg.slice(eq + 1) : arg.length > 2 ? arg.slice(2) : undefined;
      shown = `-${name}`;
      spec = byShort.get(name);
    } else {
      positional.push(arg);
      continue;
    }
    if (!spec) throw new UsageError(`${prefix}unknown flag ${shown}; valid flags: ${describe(specs)}`);
    if (spec.kind === 'bool') {
      if (inline === undefined || inline === 'true') values.set(spec.name, true);
      else if (inline === 'false') values.set(spec.name, false);
      else throw new UsageError(`${prefix}--${spec.name} takes no value or =true/=false, got "${inline}"`);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith('-') && next.length > 1)) {
        throw new UsageError(`${prefix}--${spec.name} needs a value (${spec.help})`);
      }
      value = next;
      i++;
    }
    if (spec.kind === 'list') {
      const items = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
      const before = (values.get(spec.name) as string[] | undefined) ?? [];
      values.set(spec.name, [...before, ...items]);
    } else {
      values.set(spec.name, value);
    }
  }
  return { values, positional };
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  const v = values.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function listFlag(values: FlagValues, name: string): string[] | undefined {
  const v = values.get(name);
  return Array.isArray(v) ? v : undefined;
}

export function boolFlag(values: FlagValues, name: string): boolean {
  return values.get(name) === true;
}
