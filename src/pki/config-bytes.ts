// The machine config as it comes off the disk or the socket: bytes that hold every secret of the cluster.
// They are checked for damage (a config is UTF-8 text; NUL bytes or invalid UTF-8 mean a damaged or
// half-written file), parsed into the few facts the daemon needs, and zeroed before this returns — the
// only copy left is the CA in the facts. (A JavaScript string cannot be zeroed; the decoded text is
// dropped at once and left to the collector.)
import { parseMachineConfig, type MachineConfigFacts } from './machine-config.ts';
import { PkiError } from './pem.ts';

export function parseMachineConfigBytes(bytes: Buffer, what: string): MachineConfigFacts {
  try {
    if (bytes.length === 0) {
      throw new PkiError('truncated', `${what} is empty (0 bytes): truncated, or never written; expected Talos's multi-document machine config`);
    }
    const nul = bytes.indexOf(0);
    if (nul >= 0) {
      throw new PkiError('corrupted', `${what} is corrupted: a NUL byte at offset ${nul} of ${bytes.length}; expected YAML text`);
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new PkiError('corrupted', `${what} is corrupted: not valid UTF-8 (${bytes.length} bytes); expected YAML text`);
    }
    try {
      return parseMachineConfig(text);
    } catch (e) {
      // A file cut short mid-line is the likeliest cause of a YAML error in a file Talos wrote itself.
      if (e instanceof PkiError && e.code === 'not-yaml' && !/\n\s*$/.test(text)) {
        throw new PkiError('truncated', `${e.message}; the file ends mid-line (${bytes.length} bytes), so it is probably truncated`);
      }
      throw e;
    }
  } finally {
    bytes.fill(0);
  }
}
