// The version printed by --version and logged at start: package.json's version, plus `git describe`
// when the build stamped one in (bun build --define AUTOBOOTSTRAP_BUILD=...).
import pkg from '../package.json' with { type: 'json' };

declare const AUTOBOOTSTRAP_BUILD: string | undefined;

function build(): string | undefined {
  try {
    return typeof AUTOBOOTSTRAP_BUILD === 'string' && AUTOBOOTSTRAP_BUILD !== '' ? AUTOBOOTSTRAP_BUILD : undefined;
  } catch {
    return undefined;
  }
}

export const VERSION: string = build() ? `${pkg.version} (${build()})` : `${pkg.version} (unstamped)`;
