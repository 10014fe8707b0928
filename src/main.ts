// autobootstrap: argv to subcommand. The node daemon is `autobootstrap run` (the extension's service spec
// passes it). With no arguments it prints the help: on stdout with exit 0 when a person is at a terminal,
// on stderr with exit 2 otherwise, so a service or script that forgot `run` fails loudly instead of
// starting a daemon nobody asked for.
import { OPERATOR_COMMANDS, operatorSummary, runOperator, type OperatorCommand } from './cli/operator.ts';
import { runDaemon } from './daemon.ts';
import { daemonHelp } from './config-help.ts';
import { EXIT } from './exit-codes.ts';
import { VERSION } from './version.ts';

const USAGE = `autobootstrap ${VERSION}
Bootstraps a Talos Linux cluster's etcd exactly once, from the control planes themselves.

usage:
  autobootstrap run       the node daemon (ext-autobootstrap); configured by TALOS_AUTO_BOOTSTRAP_* variables
                          (autobootstrap run --help lists them with their defaults)
  autobootstrap --version print the version
  autobootstrap --help    this text (also with no arguments on a terminal; with no arguments and no terminal,
                          it is printed on stderr and the exit code is 2)

operator commands (from a workstation; COMMAND --help for flags):
${operatorSummary()}
`;

/** True when a person is likely reading: stdin and stdout are both terminals. */
function atTerminal(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY);
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    if (atTerminal()) {
      process.stdout.write(USAGE);
      return EXIT.OK;
    }
    process.stderr.write(`autobootstrap: no command given; the node daemon is "autobootstrap run"\n\n${USAGE}`);
    return EXIT.CONFIG;
  }
  switch (command) {
    case '--version':
    case 'version':
      process.stdout.write(`autobootstrap ${VERSION}\n`);
      return EXIT.OK;
    case '--help':
    case '-h':
    case 'help':
      // `help apply` prints apply's help, as `apply --help` does.
      if ((OPERATOR_COMMANDS as readonly string[]).includes(rest[0] ?? '')) return runOperator(rest[0] as OperatorCommand, ['--help']);
      process.stdout.write(USAGE);
      return EXIT.OK;
    case 'run': {
      if (rest.length === 1 && ['--help', '-h', 'help'].includes(rest[0] as string)) {
        process.stdout.write(daemonHelp(VERSION));
        return EXIT.OK;
      }
      if (rest.length > 0) {
        process.stderr.write(`autobootstrap run takes no arguments (got: ${rest.join(' ')}); configure it with TALOS_AUTO_BOOTSTRAP_* variables (autobootstrap run --help)\n`);
        return EXIT.CONFIG;
      }
      const stop = new AbortController();
      for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => stop.abort());
      return runDaemon(process.env, stop.signal);
    }
    default:
      if ((OPERATOR_COMMANDS as readonly string[]).includes(command)) return runOperator(command as OperatorCommand, rest);
      process.stderr.write(`unknown command "${command}"\n\n${USAGE}`);
      return EXIT.CONFIG;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`autobootstrap: unexpected failure: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(EXIT.FAILURE);
  },
);
