// Talos's rules for a system extension's image root (pkg/machinery/extensions: Load, validateContents,
// validateConstraints), applied to a directory tree, plus this project's stricter ones:
// - the root holds exactly manifest.yaml and rootfs/, and the manifest is `version: v1alpha1`;
// - rootfs holds directories, regular files and symlinks only, nothing world-writable;
// - every non-directory lies under a path Talos allows; for this project: under /usr/local only;
// - the compatibility constraint parses as Talos parses it;
// - every service spec in usr/local/etc/containers is sound, and its container root holds the entrypoint
//   and every symlink resolves inside that container root (it is all the service will ever see).
// Talos's own world-writable check looks at fs.DirEntry.Type().Perm(), which carries no permission bits;
// this one reads the real mode with lstat.
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { parseTalosRange } from './semver-range.ts';
import { serviceSpecProblems } from './service-spec-rules.ts';

/** Where Talos lets an extension put files (pkg/machinery/extensions AllowedPaths, main as of v1.14). */
export const TALOS_ALLOWED_PATHS = [
  '/etc/cri/conf.d', '/usr/lib/firmware', '/usr/lib/modules', '/usr/lib/ld-linux-x86-64.so.2', '/usr/lib/ld-linux-aarch64.so.1',
  '/usr/bin/ldconfig', '/etc/ld.so.conf', '/etc/ld.so.cache', '/usr/bin/nvidia-modprobe', '/usr/bin/nvidia-pcc', '/usr/bin/nvidia-smi',
  '/usr/bin/nvidia-ctk', '/usr/bin/nvidia-cdi-hook', '/usr/bin/nvme', '/usr/lib/udev/rules.d', '/usr/local', '/usr/share/glvnd',
  '/usr/share/egl', '/etc/vulkan',
];
/** This project ships nothing outside /usr/local. */
export const PROJECT_ALLOWED_PATHS = ['/usr/local'];

const MANIFEST_METADATA_KEYS = ['name', 'version', 'author', 'description', 'compatibility', 'extraInfo'];
const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);

export interface Manifest {
  version: string;
  metadata: { name: string; version: string; author: string; description: string; compatibility: { talos: { version: string } } };
}

export function manifestProblems(text: string): string[] {
  let m: unknown;
  try {
    m = parse(text);
  } catch (e) {
    return [`manifest.yaml: not YAML: ${e instanceof Error ? e.message : String(e)}`];
  }
  const doc = m as Partial<Manifest> | null;
  if (!doc || typeof doc !== 'object') return ['manifest.yaml: expected a mapping'];
  const problems: string[] = [];
  if (doc.version !== 'v1alpha1') problems.push(`manifest.yaml: unsupported manifest version ${JSON.stringify(doc.version)} (Talos accepts v1alpha1)`);
  const md = doc.metadata as Record<string, unknown> | undefined;
  if (!md || typeof md !== 'object') return [...problems, 'manifest.yaml: metadata missing'];
  for (const k of Object.keys(md)) if (!MANIFEST_METADATA_KEYS.includes(k)) problems.push(`manifest.yaml: unknown metadata key "${k}"`);
  for (const k of ['name', 'version', 'author', 'description']) {
    if (typeof md[k] !== 'string' || md[k] === '') problems.push(`manifest.yaml: metadata.${k} must be a non-empty string`);
  }
  const constraint = (md.compatibility as { talos?: { version?: unknown } } | undefined)?.talos?.version;
  if (typeof constraint !== 'string' || constraint === '') {
    problems.push('manifest.yaml: metadata.compatibility.talos.version missing');
  } else {
    try {
      parseTalosRange(constraint);
    } catch (e) {
      problems.push(`manifest.yaml: compatibility.talos.version: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return problems;
}

/** Follows symlinks as the kernel would inside a chroot at `root`; undefined when it leaves nothing real. */
export function resolveInRoot(root: string, path: string, hops = 0): string | undefined {
  if (hops > 40) return undefined;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  let current = '/';
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part === '..') {
      current = posix.dirname(current);
      continue;
    }
    const candidate = posix.join(current, part);
    let st;
    try {
      st = lstatSync(join(root, candidate));
    } catch {
      return undefined;
    }
    if (st.isSymbolicLink()) {
      const target = readlinkSync(join(root, candidate));
      const rest = parts.slice(i + 1).join('/');
      const next = target.startsWith('/') ? target : posix.join(current, target);
      return resolveInRoot(root, rest ? `${next}/${rest}` : next, hops + 1);
    }
    current = candidate;
  }
  return join(root, current);
}

function walk(dir: string, rel: string, visit: (hostPath: string, imagePath: string) => void): void {
  for (const name of readdirSync(dir).sort()) {
    const hostPath = join(dir, name);
    const imagePath = `${rel}/${name}`;
    visit(hostPath, imagePath);
    if (lstatSync(hostPath).isDirectory()) walk(hostPath, imagePath, visit);
  }
}

function rootfsProblems(rootfs: string): string[] {
  const problems: string[] = [];
  walk(rootfs, '', (hostPath, path) => {
    const st = lstatSync(hostPath);
    if (!st.isDirectory() && !st.isFile() && !st.isSymbolicLink()) problems.push(`special files are not allowed: ${path}`);
    // A symlink's own mode is always 0777 and means nothing.
    if (!st.isSymbolicLink() && (st.mode & 0o002) !== 0) problems.push(`world-writable: ${path} (${(st.mode & 0o7777).toString(8)})`);
    if (st.isDirectory()) return;
    if (!TALOS_ALLOWED_PATHS.some((p) => under(path, p))) problems.push(`path not allowed by Talos: ${path}`);
    else if (!PROJECT_ALLOWED_PATHS.some((p) => under(path, p))) problems.push(`outside /usr/local: ${path}`);
  });
  return problems;
}

function servicesProblems(rootfs: string): string[] {
  const problems: string[] = [];
  const specDir = join(rootfs, 'usr/local/etc/containers');
  if (!existsSync(specDir)) return problems;
  for (const file of readdirSync(specDir).filter((f) => f.endsWith('.yaml'))) {
    const text = readFileSync(join(specDir, file), 'utf8');
    problems.push(...serviceSpecProblems(text).map((p) => `${file}: ${p}`));
    const spec = parse(text) as { name?: unknown; container?: { entrypoint?: unknown } } | null;
    if (typeof spec?.name !== 'string') continue;
    if (file !== `${spec.name}.yaml`) problems.push(`${file}: holds service "${spec.name}"; name the file ${spec.name}.yaml`);
    const ctr = join(rootfs, 'usr/local/lib/containers', spec.name);
    if (!existsSync(ctr)) {
      problems.push(`${file}: no container root /usr/local/lib/containers/${spec.name}/`);
      continue;
    }
    const entrypoint = spec.container?.entrypoint;
    const resolved = typeof entrypoint === 'string' ? resolveInRoot(ctr, entrypoint) : undefined;
    if (!resolved || !lstatSync(resolved).isFile() || (lstatSync(resolved).mode & 0o111) === 0) {
      problems.push(`${file}: entrypoint ${JSON.stringify(entrypoint)} is not an executable file inside its container root`);
    }
    walk(ctr, '', (hostPath, path) => {
      if (lstatSync(hostPath).isSymbolicLink() && !resolveInRoot(ctr, path)) problems.push(`${spec.name}: symlink ${path} does not resolve inside the container root`);
    });
  }
  return problems;
}

/** Every rule the image root breaks; empty when Talos would load it and this project would ship it. */
export function imageRootProblems(dir: string): string[] {
  const entries = readdirSync(dir).sort();
  const problems: string[] = [];
  for (const e of entries) if (e !== 'manifest.yaml' && e !== 'rootfs') problems.push(`unexpected file at the image root: ${e}`);
  if (!entries.includes('manifest.yaml')) problems.push('extension manifest is missing');
  if (!entries.includes('rootfs')) problems.push('extension rootfs is missing');
  if (entries.includes('manifest.yaml')) {
    if (!lstatSync(join(dir, 'manifest.yaml')).isFile()) problems.push('manifest.yaml is not a regular file');
    else problems.push(...manifestProblems(readFileSync(join(dir, 'manifest.yaml'), 'utf8')));
  }
  if (entries.includes('rootfs')) {
    if (!lstatSync(join(dir, 'rootfs')).isDirectory()) problems.push('rootfs is not a directory');
    else problems.push(...rootfsProblems(join(dir, 'rootfs')), ...servicesProblems(join(dir, 'rootfs')));
  }
  return problems;
}
