// Where `make rootfs` and `make image` leave their outputs; the extension tests check those real outputs.
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dir, '../..');
export const ARCHS = ['amd64', 'arm64'] as const;
export type Arch = (typeof ARCHS)[number];
export const SERVICE = 'autobootstrap';

export const imageRoot = (arch: Arch) => join(REPO, 'build/extension', `linux-${arch}`);
export const containerRoot = (arch: Arch) => join(imageRoot(arch), 'rootfs/usr/local/lib/containers', SERVICE);
export const installedSpec = (arch: Arch) => join(imageRoot(arch), 'rootfs/usr/local/etc/containers', `${SERVICE}.yaml`);
export const imageArchive = (arch: Arch) => join(REPO, 'dist/image', `${SERVICE}-linux-${arch}.oci.tar`);
export const SPEC_SOURCE = join(REPO, 'extension/autobootstrap.yaml');

/** Fails with the command to run instead of a confusing missing-file error. */
export function requireBuilt(path: string, target: 'rootfs' | 'image'): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run make ${target} first (make test does)`);
  return path;
}
