// The operator commands' inputs: talhelper's `gencommand apply` lines (and the shell words they are split
// into), talosconfig files, plan files and command-line flags (src/cli). A UsageError that names the input,
// or a correct parse; never another exception; an error never quotes the talosconfig's key.
import { afterAll, describe, expect, test } from 'bun:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseFlags, type FlagSpec } from '../../src/cli/inputs/flags.ts';
import { parsePlan } from '../../src/cli/inputs/plan.ts';
import { splitShell } from '../../src/cli/inputs/shell-words.ts';
import { parseTalhelperOutput } from '../../src/cli/inputs/talhelper.ts';
import { parseTalosconfig } from '../../src/cli/inputs/talosconfig.ts';
import { UsageError } from '../../src/cli/usage-error.ts';
import { createClusterIdentity } from '../sim/cluster-identity.ts';
import { issueClientCertificate } from '../sim/pki.ts';
import { billionLaughs, check, outcome, RSS_BUDGET_MIB, rssMiB } from './fuzz-run.ts';

const FILE = 'operator-inputs.test.ts';
const id = createClusterIdentity('default');
const b64 = (s: string) => Buffer.from(s).toString('base64');

const word = fc.oneof(
  fc.constantFrom('talosctl', 'apply-config', '--talosconfig=./clusterconfig/talosconfig', '--nodes=10.0.0.1', '--nodes', '10.0.0.2,10.0.0.3', '--file=./clusterconfig/cp1.yaml', '--file', '--insecure', '--mode=auto', '--mode=staged', '--dry-run', '--config-patch', '@p.yaml', ';', '&&', '|', '\\', '"', "'", '#', '$(x)', '`x`', '\t', '-n', '-e', '10.0.0.1'),
  fc.string({ maxLength: 12 }),
);
const talhelperLine = fc.array(word, { maxLength: 10 }).map((w) => w.join(' '));
const validLine = fc.tuple(fc.integer({ min: 1, max: 254 }), fc.string({ minLength: 1, maxLength: 8 })).map(([h, n]) => `talosctl apply-config --talosconfig=./clusterconfig/talosconfig --nodes=10.0.0.${h} --file=./clusterconfig/${n.replace(/[\s'"\\;&|$`#]/g, 'x')}.yaml --insecure;`);

/** A talosconfig as talosctl writes it, then a value of any type at one of the places the parser reads. */
const admin = issueClientCertificate(id.osCa, { roles: ['os:admin'], cn: 'operator' });
const TALOSCONFIG = { context: 'sim', contexts: { sim: { endpoints: ['10.0.0.1'], nodes: ['10.0.0.1', '10.0.0.2'], ca: b64(id.osCa.certPem), crt: b64(admin.certPem), key: b64(admin.keyPem) } } };
const KEY_FRAGMENTS = [b64(admin.keyPem).slice(10, 34), admin.keyPem.split('\n')[1]!.slice(0, 24)];
const TC_PATHS = [['context'], ['contexts'], ['contexts', 'sim'], ['contexts', 'sim', 'endpoints'], ['contexts', 'sim', 'nodes'], ['contexts', 'sim', 'ca'], ['contexts', 'sim', 'crt'], ['contexts', 'sim', 'key']];
function talosconfigWith(path: string[], value: unknown): string {
  const doc = structuredClone(TALOSCONFIG) as Record<string, unknown>;
  let node = doc;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  node[path.at(-1)!] = value;
  return stringify(doc);
}

afterAll(() => expect(rssMiB()).toBeLessThan(RSS_BUDGET_MIB));

describe('operator inputs', () => {
  test('talhelper output: any lines, valid ones among them', () => {
    check(
      FILE,
      'talhelper output',
      fc.property(fc.array(fc.oneof(talhelperLine, validLine, fc.string({ maxLength: 80 })), { maxLength: 8 }), (lines) => {
        const r = outcome(() => parseTalhelperOutput(lines.join('\n'), '/work/cluster'), [UsageError]);
        if (r.ok) for (const t of r.value.targets) expect(t.file?.startsWith('/')).toBe(true);
      }),
    );
  });

  test('shell words of any text', () => {
    check(FILE, 'shell words of any text', fc.property(fc.string({ maxLength: 300 }), (t) => void outcome(() => splitShell(t), [UsageError])));
  });

  test('talosconfig: truncated, wrong types, aliases; errors never quote the key', () => {
    const text = fc.oneof(
      fc.nat().map((n) => stringify(TALOSCONFIG).slice(0, n % (stringify(TALOSCONFIG).length + 1))),
      fc.tuple(fc.constantFrom(...TC_PATHS), fc.jsonValue({ maxDepth: 3 })).map(([p, v]) => talosconfigWith(p, v)),
      fc.tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 2, max: 10 })).map(([d, f]) => `${billionLaughs(d, f)}context: sim\ncontexts: {sim: {endpoints: *lol${d}, nodes: *lol${d}}}\n`),
      fc.string({ maxLength: 300 }),
    );
    check(
      FILE,
      'talosconfig',
      fc.property(text, fc.option(fc.string({ maxLength: 8 }), { nil: undefined }), (t, ctx) => {
        const r = outcome(() => parseTalosconfig(t, 'talosconfig', ctx), [UsageError]);
        if (!r.ok) for (const f of KEY_FRAGMENTS) expect(r.error.message).not.toContain(f);
      }),
    );
  });

  test('plan files: any YAML, wrong types, aliases', () => {
    const entry = fc.dictionary(fc.constantFrom('address', 'file', 'name', 'extra'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
    const text = fc.oneof(
      fc.array(entry, { maxLength: 5 }).map((nodes) => stringify({ nodes })),
      fc.array(entry, { maxLength: 5 }).map((l) => stringify(l)),
      fc.jsonValue({ maxDepth: 3 }).map((v) => stringify(v)),
      fc.tuple(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 2, max: 10 })).map(([d, f]) => `${billionLaughs(d, f)}nodes: [{address: *lol${d}, file: a.yaml}]\n`),
      fc.string({ maxLength: 200 }),
    );
    check(
      FILE,
      'plan files',
      fc.property(text, (t) => {
        const r = outcome(() => parsePlan(t, '/work/plan.yaml'), [UsageError]);
        if (r.ok) for (const n of r.value) expect(typeof n.address === 'string' && n.address.length > 0 && n.file?.startsWith('/') === true).toBe(true);
      }),
    );
  });

  test('flags: any argv', () => {
    const specs: FlagSpec[] = [
      { name: 'nodes', kind: 'list', help: '' },
      { name: 'file', kind: 'string', help: '' },
      { name: 'insecure', kind: 'bool', help: '' },
      { name: 'timeout', kind: 'string', help: '' },
    ] as FlagSpec[];
    const arg = fc.oneof(fc.constantFrom('--nodes', '--nodes=', '--file', '--file=x', '--insecure', '--insecure=false', '--insecure=maybe', '--timeout', '-', '--', '---x', '--unknown'), fc.string({ maxLength: 10 }));
    check(FILE, 'flags: any argv', fc.property(fc.array(arg, { maxLength: 8 }), (argv) => void outcome(() => parseFlags(argv, specs), [UsageError])));
  });
});
