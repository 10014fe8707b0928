// The operator commands' entry: help texts, usage errors (exit 2), and the I/O every command gets.
//
// src/cli/ by concern:
//   inputs/    what the operator gives: flags, talhelper lines, plan files, talosconfig, config files
//   nodes/     talking to nodes: channels, telling maintenance from configured, one look at a node
//   rules/     pure verdicts over what was seen: preflight checks, install disk, retries, cluster verdict
//   commands/  preflight, apply, verify, status: wiring inputs, nodes and rules together
//   render/    how results reach a person: progress lines, tables, JSON
import { EXIT, type ExitCode } from '../exit-codes.ts';
import { APPLY_FLAGS, runApply } from './commands/apply.ts';
import type { FlagSpec } from './inputs/flags.ts';
import { PREFLIGHT_FLAGS, runPreflight } from './commands/preflight.ts';
import { processIo, type Io } from './render/report.ts';
import { STATUS_FLAGS, runStatus } from './commands/status.ts';
import { UsageError } from './usage-error.ts';
import { VERIFY_FLAGS, runVerify } from './commands/verify.ts';

export const OPERATOR_COMMANDS = ['preflight', 'apply', 'verify', 'status'] as const;
export type OperatorCommand = (typeof OPERATOR_COMMANDS)[number];

const SUMMARY: Record<OperatorCommand, string> = {
  preflight: 'check every node before applying: reachable, in maintenance, config valid, install disk present',
  apply: 'apply each node its config (mode auto) with retries and backoff; see each leave maintenance',
  verify: 'wait until every node booted with its config and the control planes form ONE etcd cluster',
  status: 'one table of the cluster now, with a one-line verdict',
};

/** What a command's deadlines are, after its flags: the one thing an operator on a slow network needs. */
const DEADLINES: Record<OperatorCommand, string> = {
  preflight: 'each call to a node (TLS handshake, MachineStatus, disk list) waits --call-timeout; a node that answers later is named as slow, with the flag to raise',
  apply: 'each look at a node (TLS handshake, MachineStatus) waits --call-timeout; ApplyConfiguration waits the longer of --call-timeout and 30s',
  verify: 'each call to a node waits --call-timeout; the whole run waits --timeout',
  status: 'each call to a node waits --call-timeout',
};

export const FLAGS: Record<OperatorCommand, FlagSpec[]> = { preflight: PREFLIGHT_FLAGS, apply: APPLY_FLAGS, verify: VERIFY_FLAGS, status: STATUS_FLAGS };

export function commandHelp(command: OperatorCommand): string {
  const lines = FLAGS[command].map((f) => {
    const name = `--${f.name}${f.kind === 'bool' ? '' : ' VALUE'}${f.short ? `, -${f.short}` : ''}`;
    return `  ${name.padEnd(28)} ${f.help}${f.default !== undefined ? ` (default ${f.default})` : ''}`;
  });
  const readOnly = command === 'verify' || command === 'status';
  const nodesUsage = readOnly
    ? `autobootstrap ${command} [--nodes ADDR[,ADDR...] [--file CONFIG.yaml]] [flags]   (no nodes: the talosconfig context's nodes)`
    : `autobootstrap ${command} --nodes ADDR[,ADDR...] --file CONFIG.yaml [flags]`;
  return `autobootstrap ${command}: ${SUMMARY[command]}

usage:
  ${nodesUsage}
  autobootstrap ${command} --plan PLAN.yaml [flags]
  talhelper gencommand apply --extra-flags=--insecure | autobootstrap ${command} --from-talhelper - [flags]

flags:
${lines.join('\n')}

deadlines: ${DEADLINES[command]}

exit codes: 0 ok, 1 a node failed (named above), 2 bad flags or input, 3 split brain (verify, status)
`;
}

export function operatorSummary(): string {
  return OPERATOR_COMMANDS.map((c) => `  autobootstrap ${c.padEnd(10)} ${SUMMARY[c]}`).join('\n');
}

export async function runOperator(command: OperatorCommand, args: string[], io: Io = processIo(), env: Record<string, string | undefined> = process.env): Promise<ExitCode> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(commandHelp(command));
    return EXIT.OK;
  }
  const ctx = { cwd: process.cwd(), readStdin: () => Bun.stdin.text(), env };
  try {
    switch (command) {
      case 'preflight':
        return await runPreflight(args, io, ctx);
      case 'apply':
        return await runApply(args, io, ctx);
      case 'verify':
        return await runVerify(args, io, ctx);
      case 'status':
        return await runStatus(args, io, ctx);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`autobootstrap ${command}: ${e.message}\n(autobootstrap ${command} --help lists the flags)\n`);
      return EXIT.CONFIG;
    }
    throw e;
  }
}
