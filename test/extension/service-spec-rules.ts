// Talos's rules for an extension service spec (pkg/machinery/extensions/services: Spec.Validate and the
// YAML it decodes), plus what Talos does not check but would silently get wrong. Talos decodes the spec
// without rejecting unknown keys, so a misplaced key (e.g. `configuration: true` at the top level instead of
// under `depends`) is dropped without a word: here every key must be one Talos reads.
import { parse } from 'yaml';

const TOP_KEYS = ['name', 'container', 'depends', 'restart', 'logToConsole'];
const CONTAINER_KEYS = ['entrypoint', 'environment', 'environmentFile', 'args', 'mounts', 'security'];
/** specs.Mount has no yaml tags: the YAML decoder uses the lower-cased Go field names. */
const MOUNT_KEYS = ['source', 'destination', 'type', 'options', 'uidmappings', 'gidmappings'];
const SECURITY_KEYS = ['writeableSysfs', 'maskedPaths', 'readonlyPaths', 'writeableRootfs', 'rootfsPropagation'];
const DEPENDENCY_KEYS = ['service', 'path', 'network', 'time', 'configuration'];
const NETWORK_STATUSES = ['addresses', 'connectivity', 'hostname', 'etcfiles'];
const RESTART_KINDS = ['always', 'never', 'untilSuccess'];
const NAME_RE = /^[-_a-z0-9]+$/;
/** Mount options the OCI runtime (runc) understands for bind mounts; anything else is a typo. */
const MOUNT_OPTIONS = new Set([
  'bind', 'rbind', 'ro', 'rw', 'nosuid', 'suid', 'nodev', 'dev', 'noexec', 'exec', 'noatime', 'relatime', 'strictatime',
  'private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable', 'rro',
]);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function unknownKeys(where: string, value: Obj, known: string[]): string[] {
  return Object.keys(value)
    .filter((k) => !known.includes(k))
    .map((k) => `${where}: unknown key "${k}" (Talos ignores it silently; known: ${known.join(', ')})`);
}

function stringList(where: string, value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) return [`${where}: expected a list of strings`];
  return [];
}

function checkDependency(i: number, dep: unknown): string[] {
  const where = `depends[${i}]`;
  if (!isObj(dep)) return [`${where}: expected a mapping with exactly one key`];
  const problems = unknownKeys(where, dep, DEPENDENCY_KEYS);
  // Talos counts only the keys that are set: `time: false` is no dependency at all.
  const set = Object.entries(dep).filter(([k, v]) => DEPENDENCY_KEYS.includes(k) && v !== false && v !== '' && !(Array.isArray(v) && v.length === 0));
  if (set.length !== 1) problems.push(`${where}: exactly one dependency per item (Talos: ${set.length === 0 ? 'no dependency specified' : 'more than a single dependency is set'})`);
  for (const [k, v] of set) {
    if ((k === 'time' || k === 'configuration') && v !== true) problems.push(`${where}.${k}: expected true`);
    if ((k === 'service' || k === 'path') && typeof v !== 'string') problems.push(`${where}.${k}: expected a string`);
    if (k === 'path' && typeof v === 'string' && !v.startsWith('/')) problems.push(`${where}.path: not absolute: "${v}"`);
    if (k === 'network') {
      if (!Array.isArray(v)) problems.push(`${where}.network: expected a list`);
      else for (const s of v) if (!NETWORK_STATUSES.includes(String(s))) problems.push(`${where}.network: invalid status "${String(s)}" (valid: ${NETWORK_STATUSES.join(', ')})`);
    }
  }
  return problems;
}

function checkMount(i: number, mount: unknown): string[] {
  const where = `container.mounts[${i}]`;
  if (!isObj(mount)) return [`${where}: expected a mapping`];
  const problems = unknownKeys(where, mount, MOUNT_KEYS);
  for (const k of ['source', 'destination'] as const) {
    const v = mount[k];
    // A relative source would be created by machined (MkdirAll of a missing source) relative to its own
    // working directory on a read-only root: the service would fail to start. This rules out tmpfs mounts.
    if (typeof v !== 'string' || !v.startsWith('/')) problems.push(`${where}.${k}: expected an absolute path, got ${JSON.stringify(v)}`);
  }
  if (mount.type !== 'bind') problems.push(`${where}.type: only bind mounts are supported here, got ${JSON.stringify(mount.type)}`);
  problems.push(...stringList(`${where}.options`, mount.options));
  const options = Array.isArray(mount.options) ? (mount.options as unknown[]).map(String) : [];
  for (const o of options) if (!MOUNT_OPTIONS.has(o)) problems.push(`${where}.options: unknown mount option "${o}"`);
  if (!options.includes('bind') && !options.includes('rbind')) problems.push(`${where}.options: a bind mount needs bind or rbind`);
  if (options.includes('ro') === options.includes('rw')) problems.push(`${where}.options: say exactly one of ro or rw`);
  return problems;
}

/** Every problem Talos (or a silently ignored key) would have with this spec; empty when it is sound. */
export function serviceSpecProblems(text: string): string[] {
  let spec: unknown;
  try {
    spec = parse(text);
  } catch (e) {
    return [`not YAML: ${e instanceof Error ? e.message : String(e)}`];
  }
  if (!isObj(spec)) return ['expected a mapping at the top level'];
  const problems = unknownKeys('spec', spec, TOP_KEYS);
  if (typeof spec.name !== 'string' || !NAME_RE.test(spec.name)) problems.push(`name ${JSON.stringify(spec.name)} is invalid (Talos: [-_a-z0-9]+)`);
  if (!RESTART_KINDS.includes(String(spec.restart))) problems.push(`restart ${JSON.stringify(spec.restart)} is invalid (valid: ${RESTART_KINDS.join(', ')})`);
  if (spec.logToConsole !== undefined && typeof spec.logToConsole !== 'boolean') problems.push('logToConsole: expected true or false');

  const container = spec.container;
  if (!isObj(container)) {
    problems.push('container: missing');
  } else {
    problems.push(...unknownKeys('container', container, CONTAINER_KEYS));
    if (typeof container.entrypoint !== 'string' || container.entrypoint === '') problems.push('container.entrypoint: must not be empty');
    problems.push(...stringList('container.args', container.args), ...stringList('container.environment', container.environment));
    if (container.security !== undefined) {
      if (isObj(container.security)) problems.push(...unknownKeys('container.security', container.security, SECURITY_KEYS));
      else problems.push('container.security: expected a mapping');
    }
    if (container.mounts !== undefined) {
      if (!Array.isArray(container.mounts)) problems.push('container.mounts: expected a list');
      else container.mounts.forEach((m, i) => problems.push(...checkMount(i, m)));
    }
  }
  if (spec.depends !== undefined) {
    if (!Array.isArray(spec.depends)) problems.push('depends: expected a list');
    else spec.depends.forEach((d, i) => problems.push(...checkDependency(i, d)));
  }
  return problems;
}
