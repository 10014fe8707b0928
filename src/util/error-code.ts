// The short name of a file-system error for a log line: its errno code (ENOENT, EACCES, ...) when it has
// one. Never the whole message, which for some errors repeats what was being read.
export function errorCode(e: unknown): string {
  return (e as NodeJS.ErrnoException).code ?? (e instanceof Error ? e.name : String(e));
}
