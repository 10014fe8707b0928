// The credential sources against fixture host roots (a fake mount stands in for the kernel; the real one
// is exercised in test/e2e/state-partition.test.ts), and the order TALOS_AUTO_BOOTSTRAP_CA_SOURCE implies.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { luksMapping } from '../../src/credentials/luks-mapping.ts';
import { readCredentials } from '../../src/credentials/read-credentials.ts';
import { sourcesFor, type CredentialSource, type SourceContext, type SourceName } from '../../src/credentials/source.ts';
import { stateFile } from '../../src/credentials/state-file.ts';
import { statePartition } from '../../src/credentials/state-partition.ts';
import { hostPaths } from '../../src/host/paths.ts';
import { EBUSY } from '../../src/host/mount/syscalls.ts';
import { multiDoc, OTHER_DOCS, v1alpha1Doc } from '../fixtures/pki/config.ts';
import { generateKey, keyPem, makeCA } from '../fixtures/pki/material.ts';
import { FakeMount } from '../fixtures/host/fake-mount.ts';

const pair = generateKey('ed25519');
const ca = makeCA('ed25519', { keys: pair });
const CONFIG = multiDoc([OTHER_DOCS.extensionService, v1alpha1Doc({ type: 'controlplane', caCrtPem: ca.certPem, caKeyPem: keyPem(pair.privateKey, 'talos') })]);
const LUKS_HEADER = Buffer.concat([Buffer.from('LUKS'), Buffer.from([0xba, 0xbe]), Buffer.from([0, 2]), Buffer.alloc(504)]);
const XFS_HEADER = Buffer.concat([Buffer.from('XFSB'), Buffer.alloc(508)]);

const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

interface TreeSpec {
  /** Kernel name of the STATE partition; undefined: no by-partlabel/STATE link. */
  partition?: string;
  encrypted?: boolean;
  /** sys/block/dm-N entries: mapper name and the devices in slaves/. */
  dms?: { n: number; name: string; slaves: string[] }[];
  /** dev/mapper entries to create. */
  mapper?: string[];
}

/** A host root laid out as on a node: dev/<partition>, the by-partlabel link (relative, as udev makes it), sys/block/dm-N. */
function tree(spec: TreeSpec) {
  const root = mkdtempSync(join(tmpdir(), 'ab-src-'));
  roots.push(root);
  const at = (...p: string[]) => join(root, ...p);
  mkdirSync(at('dev/disk/by-partlabel'), { recursive: true });
  mkdirSync(at('dev/mapper'), { recursive: true });
  mkdirSync(at('sys/block'), { recursive: true });
  if (spec.partition) {
    writeFileSync(at('dev', spec.partition), spec.encrypted ? LUKS_HEADER : XFS_HEADER);
    symlinkSync(`../../${spec.partition}`, at('dev/disk/by-partlabel/STATE'));
  }
  for (const dm of spec.dms ?? []) {
    mkdirSync(at(`sys/block/dm-${dm.n}/dm`), { recursive: true });
    mkdirSync(at(`sys/block/dm-${dm.n}/slaves`), { recursive: true });
    writeFileSync(at(`sys/block/dm-${dm.n}/dm/name`), `${dm.name}\n`);
    // In sysfs these are links into the device tree; only their names matter.
    for (const s of dm.slaves) symlinkSync(`../../../devices/${s}`, at(`sys/block/dm-${dm.n}/slaves`, s));
  }
  for (const m of spec.mapper ?? []) writeFileSync(at('dev/mapper', m), XFS_HEADER);
  return { root: realpathSync(root), at: (...p: string[]) => join(realpathSync(root), ...p) };
}

function context(root: string, fake: FakeMount, notes: string[] = []): SourceContext {
  return {
    paths: hostPaths(root),
    sys: fake,
    sleep: async () => {},
    signal: new AbortController().signal,
    random: () => 0.5,
    mountRetryBudgetMs: 5_000,
    socketDeadlineMs: 1_000,
    note: (event, message) => notes.push(`${event}: ${message}`),
  };
}

describe('sourcesFor', () => {
  test('auto tries all four in order; state the three on the partition; socket only the socket', () => {
    expect(sourcesFor('auto')).toEqual(['state-file', 'state-partition', 'luks-mapping', 'machined-socket']);
    expect(sourcesFor('state')).toEqual(['state-file', 'state-partition', 'luks-mapping']);
    expect(sourcesFor('socket')).toEqual(['machined-socket']);
  });
});

describe('readCredentials', () => {
  const facts = { machineType: 'controlplane' as const, etcdConfigured: true };
  const table = (ok: SourceName | undefined, called: SourceName[]): Record<SourceName, CredentialSource> => {
    const make = (name: SourceName): CredentialSource => async () => {
      called.push(name);
      return name === ok ? { ok: true, facts, from: `from ${name}` } : { ok: false, reason: `${name} said no` };
    };
    return { 'state-file': make('state-file'), 'state-partition': make('state-partition'), 'luks-mapping': make('luks-mapping'), 'machined-socket': make('machined-socket') };
  };
  const ctx = context('/nonexistent', new FakeMount({ devices: {} }));

  test('the first source that works is used; the ones before it are reported with their reasons', async () => {
    const called: SourceName[] = [];
    const r = await readCredentials('auto', ctx, table('luks-mapping', called));
    expect(r).toEqual({
      ok: true,
      facts,
      source: 'luks-mapping',
      from: 'from luks-mapping',
      skipped: [
        { source: 'state-file', reason: 'state-file said no' },
        { source: 'state-partition', reason: 'state-partition said no' },
      ],
    });
    expect(called).toEqual(['state-file', 'state-partition', 'luks-mapping']);
  });

  test('none works: every source with its reason, in order', async () => {
    const r = await readCredentials('auto', ctx, table(undefined, []));
    expect(r).toEqual({ ok: false, attempts: sourcesFor('auto').map((source) => ({ source, reason: `${source} said no` })) });
  });

  test('state never asks the socket; socket never touches STATE', async () => {
    const a: SourceName[] = [];
    await readCredentials('state', ctx, table('machined-socket', a));
    expect(a).toEqual(['state-file', 'state-partition', 'luks-mapping']);
    const b: SourceName[] = [];
    await readCredentials('socket', ctx, table(undefined, b));
    expect(b).toEqual(['machined-socket']);
  });

  test('a source that throws is reported and does not hide the others', async () => {
    const t = table('machined-socket', []);
    t['state-partition'] = async () => {
      throw new TypeError('boom');
    };
    const r = await readCredentials('auto', ctx, t);
    if (!r.ok) throw new Error('expected success');
    expect(r.skipped[1]).toEqual({ source: 'state-partition', reason: 'unexpected failure: TypeError: boom' });
  });

  test('stopping (SIGTERM) while a source works: no later source is tried', async () => {
    const stop = new AbortController();
    const called: SourceName[] = [];
    const t = table(undefined, called);
    t['state-partition'] = async () => {
      called.push('state-partition');
      stop.abort();
      return { ok: false, reason: 'stopped' };
    };
    const r = await readCredentials('auto', { ...ctx, signal: stop.signal }, t);
    expect(r.ok).toBe(false);
    expect(called).toEqual(['state-file', 'state-partition']);
  });
});

describe('state-file', () => {
  test('missing: says STATE is not kept mounted on v1.12+', async () => {
    const t = tree({});
    const out = await stateFile(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({ ok: false, reason: `${t.at('system/state/config.yaml')} does not exist (STATE is not kept mounted on Talos v1.12+)` });
  });
  test('present: parsed, and named as the source', async () => {
    const t = tree({});
    mkdirSync(t.at('system/state'), { recursive: true });
    writeFileSync(t.at('system/state/config.yaml'), CONFIG);
    const out = await stateFile(context(t.root, new FakeMount({ devices: {} })));
    if (!out.ok) throw new Error(out.reason);
    expect(out.facts.caCertPem).toBe(ca.certPem);
    expect(out.from).toBe(t.at('system/state/config.yaml'));
  });
  test('corrupted: the reason says so, the next source gets its turn', async () => {
    const t = tree({});
    mkdirSync(t.at('system/state'), { recursive: true });
    writeFileSync(t.at('system/state/config.yaml'), Buffer.concat([Buffer.from(CONFIG.slice(0, 100)), Buffer.alloc(64)]));
    const out = await stateFile(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({ ok: false, reason: expect.stringMatching(/config\.yaml is corrupted: a NUL byte at offset 100/) });
  });
});

describe('state-partition', () => {
  test.each(['sda6', 'vda5', 'nvme0n1p5', 'loop3'])('plain STATE on %s: mounted through the by-partlabel link, read', async (part) => {
    const t = tree({ partition: part });
    const fake = new FakeMount({ devices: { [t.at('dev', part)]: { 'config.yaml': CONFIG } } });
    const out = await statePartition(context(t.root, fake));
    if (!out.ok) throw new Error(out.reason);
    expect(out.facts.machineType).toBe('controlplane');
    expect(out.from).toBe(`config.yaml on ${t.at('dev', part)}`);
    expect(fake.calls[0]?.args[0]).toBe(t.at('dev', part));
    expect(fake.mounted.size).toBe(0);
  });

  test('busy twice, then read: each retry is noted', async () => {
    const t = tree({ partition: 'vda5' });
    const fake = new FakeMount({ mountErrnos: [EBUSY, EBUSY], devices: { [t.at('dev/vda5')]: { 'config.yaml': CONFIG } } });
    const notes: string[] = [];
    const out = await statePartition(context(t.root, fake, notes));
    expect(out.ok).toBe(true);
    expect(notes).toHaveLength(2);
    for (const n of notes) expect(n).toMatch(/^state-mount-retry: mount .*vda5 \(xfs, read-only\) failed: EBUSY: busy .*; transient, retrying in \d+ ms/);
  });

  test('no STATE link: says there is no partition labelled STATE', async () => {
    const t = tree({});
    const out = await statePartition(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({ ok: false, reason: `no partition labelled STATE: ${t.at('dev/disk/by-partlabel/STATE')} does not exist` });
  });

  test('a link to nothing: says where it points', async () => {
    const t = tree({});
    symlinkSync('../../gone', t.at('dev/disk/by-partlabel/STATE'));
    const out = await statePartition(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({ ok: false, reason: expect.stringMatching(/points to nothing that exists \(ENOENT\)/) });
  });

  test('encrypted STATE is not mounted raw', async () => {
    const t = tree({ partition: 'vda5', encrypted: true });
    const fake = new FakeMount({ devices: {} });
    const out = await statePartition(context(t.root, fake));
    expect(out).toEqual({ ok: false, reason: `STATE (${t.at('dev/vda5')}) is LUKS2-encrypted; only its opened mapping can be read` });
    expect(fake.calls).toEqual([]);
  });
});

describe('luks-mapping: found by walking sys/block, never by guessing a name', () => {
  const schemes: [string, string, string][] = [
    ['Talos v1.12+', 'vda5', 'luks2-STATE'],
    ['Talos v1.8–v1.11', 'sda6', 'sda6-encrypted'],
    ['Talos v1.8–v1.11 on NVMe', 'nvme0n1p5', 'nvme0n1p5-encrypted'],
  ];
  test.each(schemes)('%s: %s opened as %s', async (_v, part, name) => {
    // dm-0 is some other mapping (over another disk); the STATE one is dm-3.
    const t = tree({ partition: part, encrypted: true, dms: [{ n: 0, name: 'luks2-EPHEMERAL', slaves: ['sdb1'] }, { n: 3, name, slaves: [part] }], mapper: ['luks2-EPHEMERAL', name] });
    const device = t.at('dev/mapper', name);
    const fake = new FakeMount({ devices: { [device]: { 'config.yaml': CONFIG } } });
    const out = await luksMapping(context(t.root, fake));
    if (!out.ok) throw new Error(out.reason);
    expect(out.from).toBe(`config.yaml on ${device} (dm-3, the opened LUKS2 mapping of ${part})`);
    expect(fake.calls.filter((c) => c.call === 'mount').map((c) => c.args[0])).toEqual([device]);
    expect(fake.mounted.size).toBe(0);
  });

  test('a dev/mapper/luks2-STATE that is not over STATE is not used', async () => {
    // The only luks2-STATE mapping sits on another disk; the real STATE mapping carries the old name.
    const t = tree({ partition: 'vda5', encrypted: true, dms: [{ n: 1, name: 'luks2-STATE', slaves: ['vdb5'] }, { n: 2, name: 'vda5-encrypted', slaves: ['vda5'] }], mapper: ['luks2-STATE', 'vda5-encrypted'] });
    const fake = new FakeMount({ devices: { [t.at('dev/mapper/luks2-STATE')]: { 'config.yaml': 'wrong: one\n' }, [t.at('dev/mapper/vda5-encrypted')]: { 'config.yaml': CONFIG } } });
    const out = await luksMapping(context(t.root, fake));
    if (!out.ok) throw new Error(out.reason);
    expect(out.from).toContain('vda5-encrypted');
  });

  test('encrypted and no mapping open: said plainly', async () => {
    const t = tree({ partition: 'vda5', encrypted: true, dms: [{ n: 0, name: 'luks2-EPHEMERAL', slaves: ['vda6'] }] });
    const out = await luksMapping(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({
      ok: false,
      reason: `STATE (${t.at('dev/vda5')}) is LUKS2-encrypted and no mapping of it is open (none of 1 ${t.at('sys/block/dm-*')} lists vda5 in slaves/)`,
    });
  });

  test('the walk finds the mapping but dev/mapper lacks it: says which', async () => {
    const t = tree({ partition: 'vda5', encrypted: true, dms: [{ n: 0, name: 'luks2-STATE', slaves: ['vda5'] }] });
    const out = await luksMapping(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({ ok: false, reason: `dm-0 is the mapping "luks2-STATE" of STATE, but ${t.at('dev/mapper/luks2-STATE')} does not exist` });
  });

  test('STATE not encrypted: nothing to look for', async () => {
    const t = tree({ partition: 'vda5' });
    const out = await luksMapping(context(t.root, new FakeMount({ devices: {} })));
    expect(out).toEqual({ ok: false, reason: `STATE (${t.at('dev/vda5')}) is not encrypted (no LUKS header), so there is no mapping to read` });
  });
});

describe('progress notes name their source', () => {
  test('a retry note from inside a source says which source it is', async () => {
    const notes: { event: string; message: string; fields: Record<string, unknown> | undefined }[] = [];
    const ctx: SourceContext = { ...context('/nonexistent', new FakeMount({ devices: {} })), note: (event, message, fields) => notes.push({ event, message, fields }) };
    const noisy: CredentialSource = async (c) => {
      c.note('state-mount-retry', 'busy', { attempt: 1 });
      return { ok: false, reason: 'busy for ever' };
    };
    await readCredentials('state', ctx, { 'state-file': noisy, 'state-partition': noisy, 'luks-mapping': noisy, 'machined-socket': noisy });
    expect(notes.map((n) => [n.message, n.fields?.source])).toEqual([
      ['CA source state-file: busy', 'state-file'],
      ['CA source state-partition: busy', 'state-partition'],
      ['CA source luks-mapping: busy', 'luks-mapping'],
    ]);
  });
});
