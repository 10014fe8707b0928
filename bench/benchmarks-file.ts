// BENCHMARKS.md is written by several benchmarks; each owns one section between its own markers and leaves
// the others as they are.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Replaces the section of `file` that starts with `begin` and ends with `end` by `section` (which carries both
 * markers), or appends it when the file has no such section; creates the file (and its folder) if missing.
 */
export function writeBenchmarksSection(file: string, begin: string, end: string, section: string): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(begin);
  const stop = text.indexOf(end);
  text = start >= 0 && stop > start ? text.slice(0, start) + section + text.slice(stop + end.length) : `${text.trimEnd()}\n\n${section}\n`;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}
