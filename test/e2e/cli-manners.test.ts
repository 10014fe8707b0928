// How the compiled binary behaves for a person at a terminal and for a service manager: no arguments, the
// daemon's help, typo hints beside other errors, and the one version form. Nothing here opens a socket:
// every daemon run below stops at its configuration.
import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_VARIABLES } from '../../src/config.ts';
import { configRows } from '../../src/config-help.ts';
import { isSemanticVersion, semanticVersion } from '../../src/version.ts';
import { BINARY } from './daemon-process.ts';

const REPO = join(import.meta.dir, '../..');
const clean = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

/** Runs the binary on a pseudo-terminal (util-linux `script`), so stdin and stdout are both ttys. */
function onTerminal(args: string[]): { code: number; output: string } {
  const command = [BINARY, ...args].map((a) => `'${a}'`).join(' ');
  const r = Bun.spawnSync(['script', '-qec', command, '/dev/null'], { env: { ...clean, TERM: 'dumb' }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  return { code: r.exitCode ?? -1, output: r.stdout.toString().replace(/\r\n/g, '\n') };
}

function logLines(stdout: string): { level: string; msg: string; event?: string; variable?: string }[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

describe('no arguments', () => {
  test('on a terminal: the help on stdout, exit 0, no daemon started', () => {
    const r = onTerminal([]);
    expect(r.code).toBe(0);
    expect(r.output).toContain('usage:');
    expect(r.output).toContain('autobootstrap run');
    expect(r.output).not.toContain('"level"');
  }, 20_000);

  test('without a terminal (a service or a script): the help on stderr and exit 2, so a missing `run` fails loudly', () => {
    const r = Bun.spawnSync([BINARY], { env: clean, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
    expect(r.exitCode).toBe(2);
    expect(r.stdout.toString()).toBe('');
    expect(r.stderr.toString()).toContain('the node daemon is "autobootstrap run"');
    expect(r.stderr.toString()).toContain('usage:');
  });
});

describe('autobootstrap run --help', () => {
  test('lists every variable of the schema with its default, and where the full table is', () => {
    for (const flag of ['--help', '-h']) {
      const r = Bun.spawnSync([BINARY, 'run', flag], { env: clean, stdout: 'pipe', stderr: 'pipe' });
      expect(r.exitCode).toBe(0);
      const out = r.stdout.toString();
      for (const row of configRows()) {
        const line = out.split('\n').find((l) => l.trimStart().startsWith(`${row.variable} `));
        expect(line, row.variable).toBeDefined();
        expect(line).toContain(` ${row.defaultText} `);
      }
      expect(configRows().map((r) => r.variable)).toEqual(KNOWN_VARIABLES);
      expect(out).toContain('docs/configuration.md');
      expect(out).toMatch(/TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL\s+30s /);
      expect(out).toMatch(/TALOS_AUTO_BOOTSTRAP_QUORUM_NODES\s+required /);
    }
  });

  test('other arguments to run are still refused, naming the help', () => {
    const r = Bun.spawnSync([BINARY, 'run', '--quorum', '3'], { env: clean, stdout: 'pipe', stderr: 'pipe' });
    expect(r.exitCode).toBe(2);
    expect(r.stderr.toString()).toContain('autobootstrap run --help');
  });
});

describe('unknown TALOS_AUTO_BOOTSTRAP_* variables', () => {
  test('are named with the closest known name even when the configuration is otherwise invalid', () => {
    const r = Bun.spawnSync([BINARY, 'run'], {
      env: { ...clean, TALOS_AUTO_BOOTSTRAP_QUORUM_NODE: '3', TALOS_AUTO_BOOTSTRAP_SCAN_INTERVL: '5s', TALOS_AUTO_BOOTSTRAP_APID_PORT: 'x', TALOS_AUTO_BOOTSTRAP_FAILURE_PAUSE: '0s' },
      stdout: 'pipe',
      stderr: 'pipe',
    });
    expect(r.exitCode).toBe(2);
    const lines = logLines(r.stdout.toString());
    const hints = lines.filter((l) => l.event === 'config-unknown-variable');
    expect(hints.map((l) => l.variable)).toEqual(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODE', 'TALOS_AUTO_BOOTSTRAP_SCAN_INTERVL']);
    expect(hints[0]?.msg).toContain('did you mean TALOS_AUTO_BOOTSTRAP_QUORUM_NODES?');
    expect(hints[1]?.msg).toContain('did you mean TALOS_AUTO_BOOTSTRAP_SCAN_INTERVAL?');
    // The hints come before the errors they explain, and the errors are still all there.
    const invalid = lines.filter((l) => l.event === 'config-invalid').map((l) => l.variable);
    expect(invalid).toEqual(expect.arrayContaining(['TALOS_AUTO_BOOTSTRAP_QUORUM_NODES', 'TALOS_AUTO_BOOTSTRAP_APID_PORT']));
    expect(lines.findIndex((l) => l.event === 'config-unknown-variable')).toBeLessThan(lines.findIndex((l) => l.event === 'config-invalid'));
  });
});

describe('one version form', () => {
  test('--version prints the semantic form the extension manifest carries (v0.1.0-g<commit>), from the same function', () => {
    const v = Bun.spawnSync([BINARY, '--version'], { env: clean, stdout: 'pipe' }).stdout.toString();
    const m = /^autobootstrap (\S+)\n$/.exec(v);
    expect(m).not.toBeNull();
    expect(isSemanticVersion(m?.[1] as string)).toBe(true);
    // What make writes into manifest.yaml for a stamp, computed by the script the Makefile calls.
    const manifestForm = Bun.spawnSync([process.execPath, join(REPO, 'scripts/extension/version.ts'), 'abc1234-dirty'], { stdout: 'pipe' }).stdout.toString();
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(manifestForm).toBe(`v${pkg.version}-gabc1234.dirty\n`);
    expect(manifestForm.trim()).toBe(semanticVersion('abc1234-dirty', pkg.version));
  });
});
