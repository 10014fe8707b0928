// The built extension obeys Talos's rules, and the rules are real: each broken fixture fails them.
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { extensionVersion, isExtensionVersion } from '../../scripts/extension/version.ts';
import { ARCHS, imageRoot, installedSpec, requireBuilt, SPEC_SOURCE } from './build-outputs.ts';
import { imageRootProblems, manifestProblems, resolveInRoot } from './image-root-rules.ts';
import { parseTalosRange } from './semver-range.ts';
import { serviceSpecProblems } from './service-spec-rules.ts';

const scratch = mkdtempSync(join(tmpdir(), 'ab-ext-rules-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const GOOD_MANIFEST = `version: v1alpha1
metadata:
  name: demo
  version: v1.0.0
  author: someone
  description: a demo extension
  compatibility:
    talos:
      version: ">= v1.7.0"
`;
const GOOD_SPEC = `name: demo
container:
  entrypoint: /demo
depends:
  - configuration: true
  - time: true
restart: untilSuccess
`;

/** A small, valid image root; each negative case breaks exactly one thing in a fresh copy. */
function fixture(name: string, change: (root: string) => void = () => {}): string {
  const root = join(scratch, name);
  mkdirSync(join(root, 'rootfs/usr/local/etc/containers'), { recursive: true });
  mkdirSync(join(root, 'rootfs/usr/local/lib/containers/demo/lib'), { recursive: true });
  writeFileSync(join(root, 'manifest.yaml'), GOOD_MANIFEST);
  writeFileSync(join(root, 'rootfs/usr/local/etc/containers/demo.yaml'), GOOD_SPEC);
  writeFileSync(join(root, 'rootfs/usr/local/lib/containers/demo/demo'), '#!/bin/sh\n', { mode: 0o755 });
  writeFileSync(join(root, 'rootfs/usr/local/lib/containers/demo/lib/real.so'), '', { mode: 0o644 });
  symlinkSync('lib/real.so', join(root, 'rootfs/usr/local/lib/containers/demo/link.so'));
  change(root);
  return root;
}

describe('the built extension', () => {
  for (const arch of ARCHS) {
    test(`linux/${arch}: image root, rootfs and spec pass every rule`, () => {
      const root = requireBuilt(imageRoot(arch), 'rootfs');
      expect(imageRootProblems(root)).toEqual([]);
      const manifest = parse(readFileSync(join(root, 'manifest.yaml'), 'utf8')) as { metadata: { version: string } };
      expect(isExtensionVersion(manifest.metadata.version)).toBe(true);
      // The installed spec is the reviewed one, byte for byte.
      expect(readFileSync(installedSpec(arch), 'utf8')).toBe(readFileSync(SPEC_SOURCE, 'utf8'));
    });
  }

  test('the spec says what this daemon needs: configuration and time, untilSuccess, socket waited for', () => {
    const text = readFileSync(SPEC_SOURCE, 'utf8');
    expect(serviceSpecProblems(text)).toEqual([]);
    const spec = parse(text) as {
      name: string;
      restart: string;
      depends: Record<string, unknown>[];
      container: { mounts: { source: string; destination: string; options: string[] }[]; environment?: unknown };
    };
    expect(spec.name).toBe('autobootstrap');
    expect(spec.restart).toBe('untilSuccess');
    expect(spec.depends).toContainEqual({ configuration: true });
    expect(spec.depends).toContainEqual({ time: true });
    // Every path dependency is served by a mount, so what is waited for is what the daemon sees.
    const paths = spec.depends.filter((d) => 'path' in d).map((d) => String(d.path));
    expect(paths).toContain('/system/run/machined/machine.sock');
    for (const p of paths) expect(spec.container.mounts.some((m) => p.startsWith(`${m.destination}/`))).toBe(true);
    // Read-only everywhere except the private mount-point directory and the agreement's acceptor state.
    const writable = spec.container.mounts.filter((m) => m.options.includes('rw')).map((m) => m.destination);
    expect(writable).toEqual(['/run/autobootstrap', '/var/lib/autobootstrap']);
    // No environment in the spec: Talos would duplicate a variable also set by ExtensionServiceConfig.
    expect(spec.container.environment).toBeUndefined();
  });

  test('compatibility: the manifest range admits Talos v1.7.0 and later, never v1.6 (no configuration dependency there)', () => {
    const { metadata } = parse(readFileSync(join(requireBuilt(imageRoot('amd64'), 'rootfs'), 'manifest.yaml'), 'utf8')) as {
      metadata: { compatibility: { talos: { version: string } } };
    };
    const admits = parseTalosRange(metadata.compatibility.talos.version);
    for (const v of ['v1.7.0', 'v1.11.5', 'v1.12.0', 'v1.13.2', 'v1.14.0-beta.1', 'v2.0.0']) expect([v, admits(v)]).toEqual([v, true]);
    for (const v of ['v1.6.0', 'v1.6.8', 'v1.5.5']) expect([v, admits(v)]).toEqual([v, false]);
    // Talos compares the core version only, so pre-releases of v1.7.0 pass too.
    expect(admits('v1.7.0-alpha.0')).toBe(true);
  });
});

describe('the rules fail what Talos would reject', () => {
  test('the fixture itself is valid', () => {
    expect(imageRootProblems(fixture('valid'))).toEqual([]);
  });

  const cases: [string, (root: string) => void, RegExp][] = [
    ['a third entry at the image root', (r) => writeFileSync(join(r, 'README'), 'x'), /unexpected file at the image root: README/],
    ['no manifest', (r) => rmSync(join(r, 'manifest.yaml')), /manifest is missing/],
    ['no rootfs', (r) => rmSync(join(r, 'rootfs'), { recursive: true }), /rootfs is missing/],
    ['a file outside the allowed paths', (r) => (mkdirSync(join(r, 'rootfs/etc')), writeFileSync(join(r, 'rootfs/etc/passwd'), '')), /not allowed by Talos: \/etc\/passwd/],
    ['a prefix that only looks allowed', (r) => writeFileSync(join(r, 'rootfs/usr/localx'), ''), /not allowed by Talos: \/usr\/localx/],
    ['allowed by Talos but outside /usr/local', (r) => (mkdirSync(join(r, 'rootfs/usr/lib/firmware'), { recursive: true }), writeFileSync(join(r, 'rootfs/usr/lib/firmware/fw.bin'), '')), /outside \/usr\/local/],
    ['a world-writable file', (r) => chmodSync(join(r, 'rootfs/usr/local/lib/containers/demo/lib/real.so'), 0o666), /world-writable: .*real\.so/],
    ['a world-writable directory', (r) => chmodSync(join(r, 'rootfs/usr/local/lib/containers/demo/lib'), 0o777), /world-writable: .*\/lib \(777\)/],
    ['a FIFO', (r) => Bun.spawnSync(['mkfifo', join(r, 'rootfs/usr/local/fifo')]), /special files are not allowed: \/usr\/local\/fifo/],
    ['a dangling symlink', (r) => symlinkSync('/nowhere', join(r, 'rootfs/usr/local/lib/containers/demo/bad')), /symlink \/bad does not resolve/],
    ['an entrypoint that is not there', (r) => rmSync(join(r, 'rootfs/usr/local/lib/containers/demo/demo')), /entrypoint "\/demo" is not an executable/],
    ['a spec file named after another service', (r) => writeFileSync(join(r, 'rootfs/usr/local/etc/containers/other.yaml'), GOOD_SPEC), /other\.yaml: holds service "demo"/],
    ['manifest version v1alpha2', (r) => writeFileSync(join(r, 'manifest.yaml'), GOOD_MANIFEST.replace('version: v1alpha1', 'version: v1alpha2')), /unsupported manifest version/],
    ['no author', (r) => writeFileSync(join(r, 'manifest.yaml'), GOOD_MANIFEST.replace('  author: someone\n', '')), /metadata\.author/],
    ['an unparseable range', (r) => writeFileSync(join(r, 'manifest.yaml'), GOOD_MANIFEST.replace('>= v1.7.0', '>= one.seven')), /compatibility\.talos\.version/],
    ['a range with a dangling ||', (r) => writeFileSync(join(r, 'manifest.yaml'), GOOD_MANIFEST.replace('>= v1.7.0', '>= v1.7.0 ||')), /'\|\|' must stand between/],
  ];
  for (const [name, change, expected] of cases) {
    test(name, () => {
      const problems = imageRootProblems(fixture(name.replace(/\W+/g, '-'), change));
      expect(problems.join('\n')).toMatch(expected);
    });
  }

  const specCases: [string, string, RegExp][] = [
    ['an upper-case name', GOOD_SPEC.replace('name: demo', 'name: Demo'), /name "Demo" is invalid/],
    ['a depends item with two keys', GOOD_SPEC.replace('  - time: true\n', '  - time: true\n    path: /x\n'), /exactly one dependency per item.*more than a single/],
    ['configuration misplaced at the top level', GOOD_SPEC.replace('  - configuration: true\n', '') + 'configuration: true\n', /unknown key "configuration"/],
    ['a dependency set to false', GOOD_SPEC.replace('time: true', 'time: false'), /no dependency specified/],
    ['an unknown dependency', GOOD_SPEC.replace('time: true', 'clock: true'), /unknown key "clock"/],
    ['a relative path dependency', GOOD_SPEC.replace('time: true', 'path: run/x.sock'), /not absolute/],
    ['an invalid network status', GOOD_SPEC.replace('  - time: true\n', '  - network: [online]\n'), /invalid status "online"/],
    ['an invalid restart value', GOOD_SPEC.replace('untilSuccess', 'onFailure'), /restart "onFailure" is invalid/],
    ['no entrypoint', GOOD_SPEC.replace('  entrypoint: /demo\n', '  args: [run]\n'), /entrypoint: must not be empty/],
    ['a tmpfs mount (relative source)', GOOD_SPEC.replace('  entrypoint: /demo\n', '  entrypoint: /demo\n  mounts:\n    - {source: tmpfs, destination: /run/x, type: tmpfs, options: [rw]}\n'), /source: expected an absolute path/],
    ['a mistyped mount option', GOOD_SPEC.replace('  entrypoint: /demo\n', '  entrypoint: /demo\n  mounts:\n    - {source: /a, destination: /a, type: bind, options: [bind, readonly]}\n'), /unknown mount option "readonly"/],
    ['a mount key Talos does not read', GOOD_SPEC.replace('  entrypoint: /demo\n', '  entrypoint: /demo\n  mounts:\n    - {source: /a, target: /a, type: bind, options: [bind, ro]}\n'), /unknown key "target"/],
  ];
  for (const [name, text, expected] of specCases) {
    test(`spec: ${name}`, () => {
      expect(serviceSpecProblems(text).join('\n')).toMatch(expected);
    });
  }

  test('manifest rules alone', () => {
    expect(manifestProblems(GOOD_MANIFEST)).toEqual([]);
    expect(manifestProblems('version: v1alpha1\nmetadata:\n  name: x\n  version: v1\n  author: a\n  description: d\n  compatibility: {talos: {version: "~> 1.7"}}\n').join()).toMatch(/compatibility/);
  });

  test('symlinks resolve as inside a chroot', () => {
    const root = fixture('resolve', (r) => {
      symlinkSync('/lib/real.so', join(r, 'rootfs/usr/local/lib/containers/demo/abs.so'));
      symlinkSync('../../../../../../../lib/real.so', join(r, 'rootfs/usr/local/lib/containers/demo/climb.so'));
    });
    const ctr = join(root, 'rootfs/usr/local/lib/containers/demo');
    expect(resolveInRoot(ctr, '/abs.so')).toBe(join(ctr, 'lib/real.so'));
    // `..` above the root stays at the root, as in a chroot.
    expect(resolveInRoot(ctr, '/climb.so')).toBe(join(ctr, 'lib/real.so'));
    expect(resolveInRoot(ctr, '/missing')).toBeUndefined();
  });
});

describe('Talos version ranges', () => {
  test('AND, OR and the v prefix, as Talos evaluates them', () => {
    const r = parseTalosRange('>= v1.7.0 < v1.12.0 || >=v1.13.0');
    expect(['1.6.9', '1.7.0', '1.11.9', '1.12.0', '1.12.4', '1.13.0'].map((v) => r(v))).toEqual([false, true, true, false, false, true]);
    expect(() => parseTalosRange('')).toThrow();
    expect(() => parseTalosRange('>> 1.7.0')).toThrow(/comparator/);
    expect(() => parseTalosRange('>= 1.7')).toThrow(/semantic version/);
  });
});

describe('extension version stamp', () => {
  test('git describe output becomes a semantic version with a leading v', () => {
    expect(extensionVersion('v1.2.3', '0.1.0')).toBe('v1.2.3');
    expect(extensionVersion('v1.2.3-4-gabc1234', '0.1.0')).toBe('v1.2.3-4-gabc1234');
    expect(extensionVersion('abc1234', '0.1.0')).toBe('v0.1.0-gabc1234');
    expect(extensionVersion('abc1234-dirty', '0.1.0')).toBe('v0.1.0-gabc1234.dirty');
    expect(extensionVersion('v2.0.0-dirty', '0.1.0')).toBe('v2.0.0-dirty');
    expect(extensionVersion('unknown', '0.1.0')).toBe('v0.1.0-unknown');
    for (const v of ['v1.2.3', 'v1.2.3-4-gabc1234', 'v0.1.0-gabc1234.dirty', 'v0.1.0-unknown']) expect([v, isExtensionVersion(v)]).toEqual([v, true]);
    for (const v of ['1.2.3', 'v1.2', 'v1.2.3-', 'v1.2.3-01']) expect([v, isExtensionVersion(v)]).toEqual([v, false]);
  });
});
