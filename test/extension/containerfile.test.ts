// The Containerfile cannot be built here (no container engine), so its contract is checked as text: the
// Bun image matches the pinned Bun, both platforms are handled, the rootfs comes from the same assembly
// script as `make rootfs`, and the final stage is scratch holding only the image root, in one layer.
import { expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { REPO } from './build-outputs.ts';

const text = readFileSync(join(REPO, 'Containerfile'), 'utf8');
const instructions = text
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));

test('pinned Bun image equal to package.json\'s bun', () => {
  const arg = instructions.find((l) => l.startsWith('ARG BUN_IMAGE='));
  expect(arg).toBe(`ARG BUN_IMAGE=oven/bun:${pkg.devDependencies.bun}-debian`);
});

test('both platforms, the baseline x86-64 target, and the shared assembly script', () => {
  expect(text).toContain('amd64) target=bun-linux-x64-baseline');
  expect(text).toContain('arm64) target=bun-linux-arm64');
  expect(text).toContain('scripts/extension/assemble-rootfs.sh "$TARGETARCH"');
});

test('final stage: scratch with one COPY of the image root', () => {
  const lastFrom = instructions.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('FROM ')).pop()!;
  expect(lastFrom[0]).toBe('FROM scratch');
  expect(instructions.slice(lastFrom[1] + 1)).toEqual(['COPY --from=build /image/ /']);
});

test('one version form: the manifest version comes from BUILD_STAMP through the function --version uses', () => {
  expect(text).toContain('bun /src/scripts/extension/version.ts "$BUILD_STAMP"');
  expect(text).toContain('--define "AUTOBOOTSTRAP_BUILD=\\"$BUILD_STAMP\\""');
});
