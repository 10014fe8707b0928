// The extension's version for the manifest (make version, assemble-rootfs.sh): the same form the binary
// prints with --version and logs at start, from one function (src/version.ts), so they can never differ.
//   bun scripts/extension/version.ts "$(git describe --always --dirty)"   ->  v0.1.0-gabc1234
import pkg from '../../package.json' with { type: 'json' };
import { isSemanticVersion, semanticVersion } from '../../src/version.ts';

export const extensionVersion = semanticVersion;
export const isExtensionVersion = isSemanticVersion;

if (import.meta.main) {
  const describe = process.argv[2] ?? 'unknown';
  process.stdout.write(`${extensionVersion(describe, pkg.version)}\n`);
}
