// A node's COSI resources as the State API serves them. The simulator derives every resource from node
// state; the store turns successive derivations into what COSI clients observe: a version that grows
// on each change, created/updated times, and created/updated/destroyed events for Watch.
import { stringify } from 'yaml';

export interface ResourceModel {
  namespace: string;
  type: string;
  id: string;
  owner: string;
  /** Marshalled as YAML (Go yaml.v3 style); a string is used verbatim when `raw` is set. */
  spec: unknown;
  raw?: boolean;
}

export interface StoredResource {
  namespace: string;
  type: string;
  id: string;
  owner: string;
  yaml: string;
  version: number;
  created: Date;
  updated: Date;
}

export type StoreEvent =
  | { type: 'CREATED'; resource: StoredResource }
  | { type: 'UPDATED'; resource: StoredResource; old: StoredResource }
  | { type: 'DESTROYED'; resource: StoredResource };

const keyOf = (ns: string, type: string, id: string) => `${ns}\u0000${type}\u0000${id}`;

// Marshalling YAML is most of what re-deriving a node's resources costs; the same spec (by its JSON text,
// which the native JSON.stringify makes cheap) always marshals the same.
const yamlCache = new Map<string, string>();

function toYaml(model: ResourceModel): string {
  if (model.raw && typeof model.spec === 'string') return model.spec;
  let key: string;
  try {
    key = JSON.stringify(model.spec) ?? 'undefined';
  } catch {
    return stringify(model.spec, { indent: 4, lineWidth: 0 });
  }
  const cached = yamlCache.get(key);
  if (cached !== undefined) return cached;
  const yaml = stringify(model.spec, { indent: 4, lineWidth: 0 });
  if (yamlCache.size > 10_000) yamlCache.clear();
  yamlCache.set(key, yaml);
  return yaml;
}

export class ResourceStore {
  private readonly items = new Map<string, StoredResource>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  /** Replaces the whole content with `models`, emitting one event per difference. */
  sync(models: ResourceModel[]): void {
    const now = new Date();
    const seen = new Set<string>();
    for (const m of models) {
      const key = keyOf(m.namespace, m.type, m.id);
      seen.add(key);
      const yaml = toYaml(m);
      const existing = this.items.get(key);
      if (!existing) {
        const created: StoredResource = { namespace: m.namespace, type: m.type, id: m.id, owner: m.owner, yaml, version: 1, created: now, updated: now };
        this.items.set(key, created);
        this.notify({ type: 'CREATED', resource: created });
      } else if (existing.yaml !== yaml) {
        const updated: StoredResource = { ...existing, yaml, version: existing.version + 1, updated: now };
        this.items.set(key, updated);
        this.notify({ type: 'UPDATED', resource: updated, old: existing });
      }
    }
    for (const [key, res] of [...this.items]) {
      if (seen.has(key)) continue;
      this.items.delete(key);
      this.notify({ type: 'DESTROYED', resource: res });
    }
  }

  get(namespace: string, type: string, id: string): StoredResource | undefined {
    return this.items.get(keyOf(namespace, type, id));
  }

  list(namespace: string, type: string): StoredResource[] {
    return [...this.items.values()]
      .filter((r) => r.namespace === namespace && r.type === type)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private notify(event: StoreEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}
