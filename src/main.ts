// autobootstrap: argv to subcommand. With no subcommand it runs the node daemon, which is how the
// Talos extension service starts it.
import { OPERATOR_COMMANDS, operatorSummary, runOperator, type OperatorCommand } from './cli/operator.ts';
import { runDaemon } from './daemon.ts';
import { EXIT } from './exit-codes.ts';
import { VERSION } from './version.ts';

const USAGE = `autobootstrap ${VERSION}
Bootstraps a Talos Linux cluster's etcd exactly once, from the control planes themselves.

usage:
  autobootstrap [run]     the node daemon (ext-autobootstrap); configured by TALOS_AUTO_BOOTSTRAP_* variables
  autobootstrap --version print the version
  autobootstrap --help    this text

operator commands (from a workstation; COMMAND --help for flags):
${operatorSummary()}
`;

async function main(argv: string[]): Promise<number> {
  const [command = 'run', ...rest] = argv;
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
      if (rest.length > 0) {
        process.stderr.write(`autobootstrap run takes no arguments (got: ${rest.join(' ')}); configure it with TALOS_AUTO_BOOTSTRAP_* variables\n`);
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
