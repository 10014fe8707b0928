// Every flag a command accepts, and every talosctl flag read from talhelper lines, is honoured or refused —
// never parsed and ignored. The table below must name each accepted flag (a new flag without a case fails
// the enumeration test), and each case shows the flag changing what the command does, or being refused.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { applyOptions } from '../../src/cli/commands/apply.ts';
import { preflightOptions, preflightPolicy, PREFLIGHT_RETRIES } from '../../src/cli/commands/preflight.ts';
import { verifyOptions } from '../../src/cli/commands/verify.ts';
import { statusOptions } from '../../src/cli/commands/status.ts';
import { DEFAULT_AGREEMENT_PORT } from '../../src/config.ts';
import { FLAGS, OPERATOR_COMMANDS, runOperator, type OperatorCommand } from '../../src/cli/operator.ts';
import { callTimeoutMs, endpointsOf, loadTalosconfig, parseCommand, resolveInputs } from '../../src/cli/inputs/options.ts';
import { APPLY_CONFIG_FLAGS, parseTalhelperOutput } from '../../src/cli/inputs/talhelper.ts';
import { DEFAULT_RETRY } from '../../src/cli/rules/retry.ts';
import type { Io } from '../../src/cli/render/report.ts';
import { createOsCa, issueClientCertificate } from '../sim/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'ab-flags-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ca = createOsCa();
const admin = issueClientCertificate(ca, { roles: ['os:admin'] });
const b64 = (s: string) => Buffer.from(s).toString('base64');
const ctxOf = (endpoints: string[]) => ({ endpoints, nodes: ['10.0.0.1'], ca: b64(ca.certPem), crt: b64(admin.certPem), key: b64(admin.keyPem) });
const TALOSCONFIG = join(dir, 'talosconfig');
writeFileSync(TALOSCONFIG, stringify({ context: 'a', contexts: { a: ctxOf(['10.0.0.1']), b: ctxOf(['10.0.0.2']) } }));
writeFileSync(join(dir, 'plan.yaml'), stringify({ nodes: [{ address: '10.0.0.7', file: 'cp.yaml' }] }));
writeFileSync(join(dir, 'apply.sh'), 'talosctl apply-config --nodes=10.0.0.8 --file=cp.yaml --insecure\n');
const FP = Buffer.alloc(32, 7).toString('base64');

const valuesOf = (command: OperatorCommand, args: string[]) => parseCommand(args, FLAGS[command]).values;
const inputs = (command: OperatorCommand, args: string[]) =>
  resolveInputs(valuesOf(command, args), { cwd: dir, readStdin: async () => '', needFiles: command === 'preflight' || command === 'apply' });
const captureIo = (): Io & { text: string } => {
  const io = { text: '', out: (t: string) => void (io.text += t), err: (t: string) => void (io.text += t), tty: false, now: () => new Date(0) };
  return io;
};

type Case = (command: OperatorCommand) => Promise<void> | void;
const CASES: Record<string, Case> = {
  nodes: async (c) => expect((await inputs(c, ['--nodes', '10.0.0.5,cp2:50001', '--file', 'cp.yaml'])).targets.map((t) => t.address)).toEqual(['10.0.0.5', 'cp2:50001']),
  file: async (c) => expect((await inputs(c, ['--nodes', '10.0.0.5', '--file', 'cp.yaml'])).targets[0]?.file).toBe('cp.yaml'),
  plan: async (c) => expect((await inputs(c, ['--plan', join(dir, 'plan.yaml')])).targets[0]?.address).toBe('10.0.0.7'),
  'from-talhelper': async (c) => expect((await inputs(c, ['--from-talhelper', join(dir, 'apply.sh')])).targets[0]?.address).toBe('10.0.0.8'),
  output: (c) => {
    expect(parseCommand(['-o', 'yaml'], FLAGS[c]).output).toBe('yaml');
    expect(parseCommand(['-o', 'json'], FLAGS[c]).output).toBe('json');
  },
  help: async (c) => {
    const io = captureIo();
    expect(await runOperator(c, ['--help'], io, {})).toBe(0);
    expect(io.text).toStartWith(`autobootstrap ${c}: `);
  },
  insecure: (c) => {
    const check = c === 'apply' ? applyOptions : preflightPolicy;
    expect(() => check(valuesOf(c, ['--insecure']))).not.toThrow();
    expect(() => check(valuesOf(c, ['--insecure=false']))).toThrow('--insecure=false');
  },
  talosconfig: (c) => expect(loadTalosconfig(valuesOf(c, ['--talosconfig', TALOSCONFIG]), {})?.path).toBe(TALOSCONFIG),
  context: (c) => expect(loadTalosconfig(valuesOf(c, ['--talosconfig', TALOSCONFIG, '--context', 'b']), {})?.endpoints).toEqual(['10.0.0.2']),
  endpoints: (c) => {
    const tc = loadTalosconfig(valuesOf(c, ['--talosconfig', TALOSCONFIG]), {});
    expect(endpointsOf(valuesOf(c, []), tc)).toEqual(['10.0.0.1']);
    expect(endpointsOf(valuesOf(c, ['-e', 'vip.example.com,10.0.0.9:50001']), tc)).toEqual(['vip.example.com', '10.0.0.9:50001']);
  },
  retries: (c) => {
    const policy = c === 'apply' ? (v: ReturnType<typeof valuesOf>) => applyOptions(v).policy : preflightPolicy;
    expect(policy(valuesOf(c, [])).retries).toBe(c === 'apply' ? DEFAULT_RETRY.retries : PREFLIGHT_RETRIES);
    expect(policy(valuesOf(c, ['--retries', '7'])).retries).toBe(7);
  },
  'retry-delay': (c) => expect((c === 'apply' ? applyOptions(valuesOf(c, ['--retry-delay', '250ms'])).policy : preflightPolicy(valuesOf(c, ['--retry-delay', '250ms']))).initialMs).toBe(250),
  'retry-factor': (c) => expect((c === 'apply' ? applyOptions(valuesOf(c, ['--retry-factor', '3'])).policy : preflightPolicy(valuesOf(c, ['--retry-factor', '3']))).factor).toBe(3),
  'retry-max-delay': (c) => expect((c === 'apply' ? applyOptions(valuesOf(c, ['--retry-max-delay', '9s'])).policy : preflightPolicy(valuesOf(c, ['--retry-max-delay', '9s']))).maxMs).toBe(9000),
  parallel: (c) => expect(applyOptions(valuesOf(c, ['--parallel', '4'])).parallel).toBe(4),
  'wait-timeout': (c) => expect(applyOptions(valuesOf(c, ['--wait-timeout', '2m'])).waitTimeoutMs).toBe(120_000),
  timeout: (c) => expect(verifyOptions(valuesOf(c, ['--timeout', '7s'])).timeoutMs).toBe(7000),
  interval: (c) => expect(verifyOptions(valuesOf(c, ['--interval', '2s'])).intervalMs).toBe(2000),
  'agreement-port': (c) => {
    expect(statusOptions(valuesOf(c, [])).agreementPort).toBe(DEFAULT_AGREEMENT_PORT);
    expect(statusOptions(valuesOf(c, ['--agreement-port', '24999'])).agreementPort).toBe(24999);
  },
  'call-timeout': (c) => {
    // The deadline each command sets from it: preflight, verify and status take it as is; apply looks at
    // a node within it and gives ApplyConfiguration at least 30s.
    const deadline = (args: string[]) =>
      c === 'apply' ? applyOptions(valuesOf(c, args)).deadlines : c === 'preflight' ? preflightOptions(valuesOf(c, args)).callTimeoutMs : callTimeoutMs(valuesOf(c, args));
    if (c === 'apply') {
      expect(deadline([])).toEqual({ probeMs: 5000, applyConfigurationMs: 30_000 });
      expect(deadline(['--call-timeout', '1s'])).toEqual({ probeMs: 1000, applyConfigurationMs: 30_000 });
      expect(deadline(['--call-timeout', '45s'])).toEqual({ probeMs: 45_000, applyConfigurationMs: 45_000 });
    } else {
      expect(deadline([])).toBe(5000);
      expect(deadline(['--call-timeout', '20s'])).toBe(20_000);
    }
    for (const bad of ['slow', '0s', '-1s', '2h']) expect(() => deadline([`--call-timeout=${bad}`])).toThrow(`--call-timeout "${bad}" is not a duration from 1ms to 1h`);
  },
};

describe('every operator flag is honoured', () => {
  for (const command of OPERATOR_COMMANDS) {
    for (const flag of FLAGS[command]) {
      test(`${command} --${flag.name}`, async () => {
        const c = CASES[flag.name];
        expect(c, `no case shows that ${command} --${flag.name} is honoured`).toBeDefined();
        await (c as Case)(command);
      });
    }
  }
  test('a flag a command does not take is refused, naming it (exit 2)', async () => {
    const io = captureIo();
    expect(await runOperator('status', ['--insecure'], io, {})).toBe(2);
    expect(io.text).toContain('unknown flag --insecure');
    expect(await runOperator('apply', ['--talosconfig', 'x'], captureIo(), {})).toBe(2);
  });
});

const line = (extra: string) => parseTalhelperOutput(`talosctl apply-config --nodes=10.0.0.1 --file=cp.yaml --insecure ${extra}\n`, dir);
type LineCase = () => void;
const LINE_CASES: Record<string, LineCase> = {
  nodes: () => expect(line('--nodes=10.0.0.2').targets.map((t) => t.address)).toEqual(['10.0.0.1', '10.0.0.2']),
  file: () => expect(line('').targets[0]?.file).toBe(join(dir, 'cp.yaml')),
  insecure: () => expect(() => line('--insecure=false')).toThrow('--insecure=false'),
  talosconfig: () => expect(line('--talosconfig=tc').talosconfig).toBe(join(dir, 'tc')),
  context: () => expect(line('--context=prod').context).toBe('prod'),
  endpoints: () => expect(() => line('-e 10.0.0.9')).toThrow('--endpoints is not supported on apply lines'),
  mode: () => {
    expect(line('--mode=auto').targets).toHaveLength(1);
    expect(() => line('--mode=try')).toThrow('--mode=try is not supported');
  },
  'dry-run': () => expect(() => line('--dry-run')).toThrow('--dry-run is not supported'),
  'config-patch': () => expect(() => line('-p @patch.yaml')).toThrow('--config-patch is not supported'),
  'cert-fingerprint': () => {
    expect(line(`--cert-fingerprint=${FP}`).targets[0]?.certFingerprints).toEqual([FP]);
    expect(() => line('--cert-fingerprint=nope')).toThrow('is not a certificate fingerprint');
  },
  timeout: () => expect(() => line('--timeout=1m')).toThrow('--timeout is for --mode=try'),
  cluster: () => expect(() => line('--cluster=prod')).toThrow('--cluster (Omni) is not supported'),
};

describe('every talosctl flag read from a talhelper line is honoured or refused', () => {
  for (const flag of APPLY_CONFIG_FLAGS) {
    test(`--${flag.name}`, () => {
      const c = LINE_CASES[flag.name];
      expect(c, `no case for talhelper's --${flag.name}`).toBeDefined();
      (c as LineCase)();
    });
  }
});
