// `make image` output, read byte by byte: an OCI archive (oci-layout, index.json, blobs) whose index names
// one manifest, whose manifest names one gzip layer holding exactly /manifest.yaml and /rootfs/... — the
// same tree as the image root make rootfs assembled — and a config of the right platform.
import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ARCHS, imageArchive, imageRoot, REPO, requireBuilt } from './build-outputs.ts';
import { cleanName, readTar, type TarEntry } from './tar.ts';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const json = (e: TarEntry) => JSON.parse(new TextDecoder().decode(e.data)) as Record<string, unknown>;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** Every path of a directory tree, relative, directories included. */
function treePaths(dir: string, rel = ''): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = rel ? `${rel}/${name}` : name;
    return lstatSync(join(dir, name)).isDirectory() ? [path, ...treePaths(join(dir, name), path)] : [path];
  });
}

describe('OCI image archives', () => {
  for (const arch of ARCHS) {
    test(`linux/${arch}: index -> manifest -> one layer holding exactly manifest.yaml and rootfs/`, () => {
      const outer = new Map(readTar(new Uint8Array(readFileSync(requireBuilt(imageArchive(arch), 'image')))).map((e) => [cleanName(e.name), e]));
      expect(json(outer.get('oci-layout')!)).toEqual({ imageLayoutVersion: '1.0.0' });

      const used = new Set<string>();
      const blob = (d: Descriptor): TarEntry => {
        const [algorithm, hex] = d.digest.split(':');
        expect(algorithm).toBe('sha256');
        const entry = outer.get(`blobs/sha256/${hex}`);
        expect(entry).toBeDefined();
        expect(sha256(entry!.data)).toBe(hex!);
        expect(entry!.size).toBe(d.size);
        used.add(`blobs/sha256/${hex}`);
        return entry!;
      };

      const index = json(outer.get('index.json')!) as { schemaVersion: number; manifests: Descriptor[] };
      expect(index.schemaVersion).toBe(2);
      expect(index.manifests).toHaveLength(1);
      expect(index.manifests[0]!.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');

      const manifest = json(blob(index.manifests[0]!)) as { config: Descriptor; layers: Descriptor[] };
      expect(manifest.config.mediaType).toBe('application/vnd.oci.image.config.v1+json');
      expect(manifest.layers).toHaveLength(1);
      const layerDesc = manifest.layers[0]!;
      expect(layerDesc.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');

      const config = json(blob(manifest.config)) as { architecture: string; os: string; rootfs: { type: string; diff_ids: string[] } };
      expect([config.os, config.architecture]).toEqual(['linux', arch]);

      const layerTar = gunzipSync(blob(layerDesc).data);
      expect(config.rootfs).toEqual({ type: 'layers', diff_ids: [`sha256:${sha256(layerTar)}`] });
      // Nothing else in the archive: no stale blobs of earlier builds.
      expect([...outer.keys()].filter((k) => k.startsWith('blobs/sha256/')).sort()).toEqual([...used].sort());

      const layer = readTar(layerTar);
      const names = layer.map((e) => cleanName(e.name));
      expect(names.filter((n) => n !== 'manifest.yaml' && n !== 'rootfs' && !n.startsWith('rootfs/'))).toEqual([]);
      // The layer is the image root make rootfs assembled, entry for entry.
      const root = requireBuilt(imageRoot(arch), 'rootfs');
      expect([...names].sort()).toEqual(treePaths(root).sort());
      for (const e of layer) {
        expect([e.name, e.type]).toEqual([e.name, expect.stringMatching(/^[025]$/)]);
        expect([e.name, e.uid, e.gid]).toEqual([e.name, 0, 0]);
        if (e.type !== '2') expect([e.name, e.mode & 0o002]).toEqual([e.name, 0]);
      }
      const byName = new Map(layer.map((e) => [cleanName(e.name), e]));
      expect(new TextDecoder().decode(byName.get('manifest.yaml')!.data)).toBe(readFileSync(join(root, 'manifest.yaml'), 'utf8'));
      const binary = byName.get('rootfs/usr/local/lib/containers/autobootstrap/autobootstrap')!;
      expect([binary.type, binary.mode & 0o777]).toEqual(['0', 0o755]);
      expect(binary.size).toBe(lstatSync(join(root, 'rootfs/usr/local/lib/containers/autobootstrap/autobootstrap')).size);
    });
  }

  test('reproducible: two builds of the same root and version are byte-identical', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ab-ext-repro-'));
    try {
      const build = (out: string) =>
        Bun.spawnSync([join(REPO, 'scripts/extension/build-image.sh'), 'arm64', requireBuilt(imageRoot('arm64'), 'rootfs'), 'v0.0.0-repro', out], {
          env: { ...process.env, SOURCE_DATE_EPOCH: '1700000000' },
          stdout: 'ignore',
          stderr: 'pipe',
        });
      for (const name of ['a.tar', 'b.tar']) expect(build(join(dir, name)).exitCode).toBe(0);
      expect(sha256(readFileSync(join(dir, 'a.tar')))).toBe(sha256(readFileSync(join(dir, 'b.tar'))));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
