// make bench-size: the extension's size per architecture — the binary, the rootfs as installed on a node
// (sum of its regular files), and the compressed layer a node downloads — written into BENCHMARKS.md
// between its own markers, so other sections of that file are left as they are.
import { createHash } from 'node:crypto';
import { writeBenchmarksSection } from '../../bench/benchmarks-file.ts';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARCHS, imageArchive, imageRoot, REPO, type Arch } from '../../test/extension/build-outputs.ts';
import { cleanName, readTar } from '../../test/extension/tar.ts';

const BEGIN = '<!-- extension-size:begin (make bench-size) -->';
const END = '<!-- extension-size:end -->';
const FILE = join(REPO, 'BENCHMARKS.md');

function regularFileBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => {
    const st = lstatSync(join(dir, name));
    return sum + (st.isDirectory() ? regularFileBytes(join(dir, name)) : st.isFile() ? st.size : 0);
  }, 0);
}

function layerBytes(arch: Arch): number {
  const files = new Map(readTar(new Uint8Array(readFileSync(imageArchive(arch)))).map((e) => [cleanName(e.name), e]));
  const blob = (digest: string) => files.get(`blobs/sha256/${digest.split(':')[1]}`)!.data;
  const index = JSON.parse(new TextDecoder().decode(files.get('index.json')!.data)) as { manifests: { digest: string }[] };
  const manifest = JSON.parse(new TextDecoder().decode(blob(index.manifests[0]!.digest))) as { layers: { digest: string; size: number }[] };
  const layer = manifest.layers[0]!;
  if (createHash('sha256').update(blob(layer.digest)).digest('hex') !== layer.digest.split(':')[1]) throw new Error(`${arch}: layer digest mismatch`);
  return layer.size;
}

// One unit for sizes across BENCHMARKS.md: MiB (2^20 bytes), as the discovery section and RSS figures use.
const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

const rows = ARCHS.map((arch) => {
  const binary = lstatSync(join(imageRoot(arch), 'rootfs/usr/local/lib/containers/autobootstrap/autobootstrap')).size;
  return { arch, binary, rootfs: regularFileBytes(join(imageRoot(arch), 'rootfs')), layer: layerBytes(arch) };
});
const manifest = readFileSync(join(imageRoot('amd64'), 'manifest.yaml'), 'utf8');
const version = /version: "([^"]+)"/.exec(manifest)?.[1] ?? 'unknown';
const libc = Bun.spawnSync(['dpkg-deb', '-f', join(REPO, 'build/debs/libc6_amd64.deb'), 'Version']).stdout.toString().trim();

const section = [
  BEGIN,
  '## Extension size',
  '',
  `Measured by \`make bench-size\` on ${new Date().toISOString().slice(0, 10)}, extension ${version}, Bun ${Bun.version}, Debian libc6 ${libc}.`,
  'Binary: the Bun-compiled daemon. Rootfs: every regular file the extension installs under /usr/local (binary, glibc',
  'loader and libraries, spec, licence). Layer: the gzip-compressed OCI layer a node or imager downloads.',
  '',
  '| platform | binary | rootfs | compressed layer | layer / rootfs |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| linux/${r.arch} | ${mb(r.binary)} | ${mb(r.rootfs)} | ${mb(r.layer)} | ${((100 * r.layer) / r.rootfs).toFixed(0)} % |`),
  '',
  'Exact bytes: ' + rows.map((r) => `${r.arch} binary ${r.binary}, rootfs ${r.rootfs}, layer ${r.layer}`).join('; ') + '.',
  END,
].join('\n');

writeBenchmarksSection(FILE, BEGIN, END, section);
console.log(section);
