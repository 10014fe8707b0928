// Flags, plan files, talosconfig and how they become the node list: every bad input one clear error.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { parseFlags, type FlagSpec } from '../../src/cli/inputs/flags.ts';
import { COMMON_FLAGS, RETRY_FLAGS, loadTalosconfig, parseCommand, resolveInputs, retryPolicy } from '../../src/cli/inputs/options.ts';
import { parsePlan } from '../../src/cli/inputs/plan.ts';
import { parseTalosconfig, talosconfigPath } from '../../src/cli/inputs/talosconfig.ts';
import { UsageError } from '../../src/cli/usage-error.ts';
import { keyDer, makeCA } from '../fixtures/pki/material.ts';

const SPECS: FlagSpec[] = [
  { name: 'nodes', short: 'n', kind: 'list', help: 'addresses' },
  { name: 'file', short: 'f', kind: 'string', help: 'config' },
  { name: 'insecure', short: 'i', kind: 'bool', help: 'x' },
];

describe('parseFlags (talosctl spelling)', () => {
  test('--x=v, --x v, -n v, -nV, repeated lists, booleans', () => {
    const { values, positional } = parseFlags(['--nodes=a,b', '-n', 'c', '-nd', '--file', 'x.yaml', '--insecure', 'extra'], SPECS);
    expect(values.get('nodes')).toEqual(['a', 'b', 'c', 'd']);
    expect(values.get('file')).toBe('x.yaml');
    expect(values.get('insecure')).toBe(true);
    expect(positional).toEqual(['extra']);
  });
  test('errors name the flag and what is valid', () => {
    expect(() => parseFlags(['--node=a'], SPECS)).toThrow('unknown flag --node; valid flags: --nodes/-n, --file/-f, --insecure/-i');
    expect(() => parseFlags(['--file'], SPECS)).toThrow('--file needs a value (config)');
    expect(() => parseFlags(['--file', '--insecure'], SPECS)).toThrow('--file needs a value');
    expect(() => parseFlags(['--insecure=yes'], SPECS)).toThrow('--insecure takes no value or =true/=false, got "yes"');
  });
});

describe('command options', () => {
  const specs = [...COMMON_FLAGS, ...RETRY_FLAGS];
  test('retry flags become the policy; defaults are the documented ones', () => {
    expect(retryPolicy(parseCommand([], specs).values)).toEqual({ initialMs: 3000, factor: 2, maxMs: 60000, retries: 5 });
    expect(retryPolicy(parseCommand(['--retries', '2', '--retry-delay', '100ms', '--retry-factor', '3', '--retry-max-delay', '1s'], specs).values)).toEqual({
      initialMs: 100,
      factor: 3,
      maxMs: 1000,
      retries: 2,
    });
  });
  const bad: [string[], string][] = [
    [['--retries', 'many'], '--retries "many" is not valid; use a whole number from 0 to 100'],
    [['--retry-delay', '3'], '--retry-delay "3" is not a duration of at least 1ms; use e.g. 500ms, 3s, 1m'],
    [['--retry-factor', '0.5'], '--retry-factor "0.5" is not valid; use a number from 1 to 10'],
    [['--retry-delay', '5s', '--retry-max-delay', '1s'], '--retry-max-delay (1000ms) is shorter than --retry-delay (5000ms)'],
    [['--output', 'xml'], '--output "xml" is not valid; use one of table, text, json, yaml'],
    [['10.0.0.1'], 'unexpected argument "10.0.0.1"; nodes are given with --nodes, --plan or --from-talhelper'],
  ];
  for (const [args, message] of bad) {
    test(`${args.join(' ')} → ${message}`, () => {
      expect(() => retryPolicy(parseCommand(args, specs).values)).toThrow(message);
    });
  }
});

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ab-cli-inputs-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveInputs', () => {
  const ctx = (needFiles: boolean) => ({ cwd: '/w', readStdin: async () => 'talosctl apply-config --nodes=10.0.0.9 --file=x.yaml\n', needFiles });
  const values = (args: string[]) => parseCommand(args, COMMON_FLAGS).values;
  test('--nodes with --file', async () => {
    expect((await resolveInputs(values(['--nodes', '10.0.0.1,10.0.0.2', '--file', 'c.yaml']), ctx(true))).targets).toEqual([
      { address: '10.0.0.1', name: '10.0.0.1', file: 'c.yaml' },
      { address: '10.0.0.2', name: '10.0.0.2', file: 'c.yaml' },
    ]);
  });
  test('--from-talhelper - reads stdin', async () => {
    expect((await resolveInputs(values(['--from-talhelper', '-']), ctx(true))).targets).toEqual([{ address: '10.0.0.9', file: '/w/x.yaml', name: 'x' }]);
  });
  test('verify/status may fall back on the talosconfig nodes', async () => {
    expect((await resolveInputs(values([]), { ...ctx(false), fallbackNodes: () => ['10.0.0.5'] })).targets).toEqual([{ address: '10.0.0.5', name: '10.0.0.5' }]);
  });
  const bad: [string[], boolean, string][] = [
    [['--nodes', '10.0.0.1'], true, '--nodes needs --file (the machine config to apply to them)'],
    [['--file', 'c.yaml'], true, '--file needs --nodes'],
    [['--nodes', '10.0.0.1', '--file', 'c', '--plan', 'p.yaml'], true, 'give nodes one way only; got --nodes/--file and --plan'],
    [[], true, 'no nodes given; use --nodes ADDR[,ADDR] --file CONFIG, --plan PLAN.yaml, or --from-talhelper FILE|-'],
    [['--nodes', 'cp_1!', '--file', 'c'], true, 'node address "cp_1!" is not a node address; use an IPv4 address or a hostname, optionally with :port (IPv6 is not supported)'],
    [['--nodes', 'fd00::1', '--file', 'c'], true, 'node address "fd00::1" is not a node address; use an IPv4 address or a hostname, optionally with :port (IPv6 is not supported)'],
    [['--nodes', '10.0.0.1:99999', '--file', 'c'], true, 'node address "10.0.0.1:99999" is not a node address'],
    [['--nodes', '10.0.0.1,10.0.0.1:50000', '--file', 'c'], true, 'node 10.0.0.1:50000 is listed twice'],
    [['--nodes', '10.0.0.1,10.0.0.1', '--file', 'c'], true, 'node 10.0.0.1 is listed twice'],
    [['--plan', '/nonexistent/plan.yaml'], true, 'cannot read plan /nonexistent/plan.yaml (ENOENT)'],
  ];
  for (const [args, needFiles, message] of bad) {
    test(`${args.join(' ') || '(nothing)'} → ${message}`, async () => {
      const p = resolveInputs(values(args), ctx(needFiles));
      await expect(p).rejects.toThrow(UsageError);
      await expect(resolveInputs(values(args), ctx(needFiles))).rejects.toThrow(message);
    });
  }
});

describe('parsePlan', () => {
  test('nodes list or bare list; paths relative to the plan', () => {
    const text = stringify({ nodes: [{ address: '10.0.0.1', file: 'cp1.yaml', name: 'cp1' }, { address: '10.0.0.2', file: '/abs/w.yaml' }] });
    expect(parsePlan(text, '/plans/p.yaml')).toEqual([
      { address: '10.0.0.1', file: '/plans/cp1.yaml', name: 'cp1' },
      { address: '10.0.0.2', file: '/abs/w.yaml', name: '10.0.0.2' },
    ]);
    expect(parsePlan('- {address: 10.0.0.3, file: a.yaml}\n', '/p.yaml')).toEqual([{ address: '10.0.0.3', file: '/a.yaml', name: '10.0.0.3' }]);
  });
  const bad: [string, string][] = [
    ['nodes: []\n', 'plan p.yaml has no nodes; expected "nodes:" with a list of {address, file, name?}'],
    ['nodes: [{file: a.yaml}]\n', "plan p.yaml, node 1: address is missing; expected the node's IP address"],
    ['nodes: [{address: 10.0.0.1}]\n', 'plan p.yaml, node 1: file is missing'],
    ['nodes: [{address: 10.0.0.1, file: a, ip: x}]\n', 'plan p.yaml, node 1: unknown key "ip"; valid keys: address, file, name'],
    ['nodes: [10.0.0.1]\n', 'plan p.yaml, node 1: expected a mapping {address, file, name?}'],
    ['nodes: [\n', 'plan p.yaml is not valid YAML'],
  ];
  for (const [text, message] of bad) test(message, () => expect(() => parsePlan(text, 'p.yaml')).toThrow(message));
});

describe('talosconfig', () => {
  const ca = makeCA('ed25519');
  const client = makeCA('ed25519');
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const { label, der } = keyDer(client.privateKey, 'talos');
  const talosKey = `-----BEGIN ${label}-----\n${der.toString('base64')}\n-----END ${label}-----\n`;
  const doc = (over: Record<string, unknown> = {}) =>
    stringify({ context: 'home', contexts: { home: { endpoints: ['10.0.0.1'], nodes: ['10.0.0.1', '10.0.0.2'], ca: b64(ca.certPem), crt: b64(client.certPem), key: b64(talosKey), ...over } } });

  test('reads context, endpoints, nodes; the Talos key label is re-encoded as PKCS#8', () => {
    const tc = parseTalosconfig(doc(), '/t');
    expect(tc.context).toBe('home');
    expect(tc.endpoints).toEqual(['10.0.0.1']);
    expect(tc.nodes).toEqual(['10.0.0.1', '10.0.0.2']);
    expect(tc.identity.caPem).toBe(ca.certPem);
    expect(tc.identity.keyPem).toStartWith('-----BEGIN PRIVATE KEY-----');
  });
  test('errors name the file, the context and the field', () => {
    expect(() => parseTalosconfig(doc({ key: 'bm90IHBlbQ==' }), '/t')).toThrow('talosconfig /t, context "home": key is not base64 of a PEM block');
    expect(() => parseTalosconfig(doc({ crt: undefined }), '/t')).toThrow('talosconfig /t, context "home": crt is missing');
    expect(() => parseTalosconfig(doc(), '/t', 'work')).toThrow('talosconfig /t has no context "work"; contexts: home');
    expect(() => parseTalosconfig('foo: bar\n', '/t')).toThrow('talosconfig /t has no contexts');
    expect(() => parseTalosconfig(doc({ nodes: 'x' }), '/t')).toThrow('nodes must be a list of addresses');
  });
  test('path: flag, then $TALOSCONFIG, then ~/.talos/config', () => {
    expect(talosconfigPath('/a', { TALOSCONFIG: '/b' }, '/home/u')).toBe('/a');
    expect(talosconfigPath(undefined, { TALOSCONFIG: '/b' }, '/home/u')).toBe('/b');
    expect(talosconfigPath(undefined, {}, '/home/u')).toBe('/home/u/.talos/config');
  });
  test('a missing default is no error; a missing named file is', () => {
    const values = (args: string[]) => parseCommand(args, COMMON_FLAGS).values;
    expect(loadTalosconfig(values([]), { HOME: dir })).toBeUndefined();
    expect(() => loadTalosconfig(values(['--talosconfig', join(dir, 'nope')]), {})).toThrow(`talosconfig ${join(dir, 'nope')} does not exist`);
    const path = join(dir, 'talosconfig');
    writeFileSync(path, doc());
    expect(loadTalosconfig(values([]), { TALOSCONFIG: path })?.context).toBe('home');
  });
  test('the talosconfig named on talhelper lines is used unless --talosconfig or $TALOSCONFIG says otherwise', () => {
    const values = (args: string[]) => parseCommand(args, COMMON_FLAGS).values;
    const hinted = join(dir, 'from-talhelper');
    writeFileSync(hinted, doc());
    expect(loadTalosconfig(values([]), { HOME: dir }, hinted)?.path).toBe(hinted);
    expect(loadTalosconfig(values([]), { HOME: dir, TALOSCONFIG: join(dir, 'talosconfig') }, hinted)?.path).toBe(join(dir, 'talosconfig'));
    // A hint that does not exist is only a hint.
    expect(loadTalosconfig(values([]), { HOME: dir }, join(dir, 'gone'))).toBeUndefined();
  });
});
