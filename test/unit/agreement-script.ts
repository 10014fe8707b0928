// A small script language for the agreement core, in the style of raft's testdata: each file is a list of
// commands, each followed by "----" and the exact output it must produce. A reviewer reads the protocol's
// behaviour from the files without reading the harness. AGREEMENT_SCRIPTS_REWRITE=1 rewrites the expected
// output (then read the diff before committing it).
//
// Commands (nodes are short names; q is the quorum, n the control-plane count when set):
//   nodes a b c q=2 [n=3] [cluster=X]     new nodes with empty durable state
//   params a q=3                          change one node's parameters (a misconfigured peer)
//   view a leads|follows verified=a,b,c [seen=3]
//   tick a +5000                          advance a's clock by ms, then a tick
//   deliver [from->to] [n=K]              deliver pending messages (all, or on one link) in order
//   drop [from->to]                       lose pending messages
//   dup from->to                          duplicate the pending messages of one link
//   crash a                               lose a's volatile state; durable state and clock stay
//   wipe a                                lose everything (the "acceptor that forgets" fault)
//   state a                               print a's state
//   pending                               print the pending messages
import { formatBallot } from '../../src/agreement/core/ballot.ts';
import type { Body, Message } from '../../src/agreement/core/messages.ts';
import type { AgreementParams } from '../../src/agreement/core/params.ts';
import { EMPTY_DURABLE, initialState, type AgreementState, type DurableState } from '../../src/agreement/core/state.ts';
import { step, type Input, type StepResult } from '../../src/agreement/core/step.ts';

interface Node {
  state: AgreementState;
  now: number;
  disk: DurableState;
}

export function formatBody(b: Body): string {
  switch (b.type) {
    case 'prepare':
      return `prepare ${formatBallot(b.ballot)}`;
    case 'promise':
      return `promise ${formatBallot(b.ballot)} accepted=${b.accepted ? `${b.accepted.value}@${formatBallot(b.accepted.ballot)}` : 'none'}`;
    case 'accept':
      return `accept ${b.value}@${formatBallot(b.ballot)}`;
    case 'accepted':
      return `accepted ${b.value}@${formatBallot(b.ballot)}`;
    case 'nack':
      return `nack ${formatBallot(b.ballot)} promised=${formatBallot(b.promised)}`;
    case 'chosen':
      return `chosen ${b.value}`;
    case 'chosen-ack':
      return `chosen-ack ${b.value}`;
    case 'refused':
      return `refused (${b.reason})`;
  }
}

export function formatDurable(d: DurableState): string {
  return `promised=${formatBallot(d.promised)} accepted=${d.accepted ? `${d.accepted.value}@${formatBallot(d.accepted.ballot)}` : 'none'} chosen=${d.chosen ?? 'none'}`;
}

function kv(args: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    const i = a.indexOf('=');
    if (i > 0) out[a.slice(0, i)] = a.slice(i + 1);
  }
  return out;
}

export class ScriptWorld {
  nodes = new Map<string, Node>();
  pending: { to: string; message: Message }[] = [];

  private node(name: string): Node {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  private apply(name: string, input: Input, out: string[]): void {
    const n = this.node(name);
    const r: StepResult = step(n.state, input, { now: n.now, wallNow: 0, random: 0.5 });
    n.state = r.state;
    if (r.persist) {
      n.disk = r.persist;
      out.push(`${name} persist ${formatDurable(r.persist)}`);
    }
    for (const a of r.act) {
      if (a.kind === 'learned') out.push(`${name} LEARNED ${a.value}`);
      else if (a.level !== 'debug') out.push(`${name} ${a.level}: ${a.message}`);
    }
    for (const s of r.send) {
      out.push(`${name} -> ${s.to} ${formatBody(s.message.body)}`);
      this.pending.push(s);
    }
  }

  private params(args: Record<string, string>, base?: AgreementParams): AgreementParams {
    return {
      quorum: args.q !== undefined ? Number(args.q) : (base?.quorum ?? 1),
      controlPlanes: args.n !== undefined ? (args.n === 'unset' ? undefined : Number(args.n)) : base?.controlPlanes,
      clusterId: args.cluster ?? base?.clusterId ?? 'cluster-1',
    };
  }

  private link(arg: string | undefined): (p: { to: string; message: Message }) => boolean {
    if (!arg || !arg.includes('->')) return () => true;
    const [from, to] = arg.split('->');
    return (p) => p.message.from === from && p.to === to;
  }

  run(command: string): string {
    const [cmd, ...args] = command.trim().split(/\s+/);
    const named = kv(args);
    const out: string[] = [];
    switch (cmd) {
      case 'nodes': {
        const params = this.params(named);
        for (const name of args.filter((a) => !a.includes('='))) {
          this.nodes.set(name, { state: initialState(name, params, EMPTY_DURABLE), now: 0, disk: EMPTY_DURABLE });
        }
        out.push('ok');
        break;
      }
      case 'params': {
        const n = this.node(args[0] as string);
        n.state = { ...n.state, params: this.params(named, n.state.params) };
        out.push('ok');
        break;
      }
      case 'view': {
        const name = args[0] as string;
        const verified = (named.verified ?? '').split(',').filter((s) => s !== '');
        this.apply(name, { kind: 'view', view: { leads: args[1] === 'leads', verified, seen: Number(named.seen ?? verified.length) } }, out);
        break;
      }
      case 'tick': {
        const name = args[0] as string;
        this.node(name).now += Number((args[1] ?? '+0').replace('+', ''));
        this.apply(name, { kind: 'tick' }, out);
        break;
      }
      case 'deliver': {
        const match = this.link(args.find((a) => a.includes('->')));
        let budget = named.n !== undefined ? Number(named.n) : Infinity;
        for (;;) {
          const i = this.pending.findIndex(match);
          if (i < 0 || budget-- <= 0) break;
          const [p] = this.pending.splice(i, 1);
          if (!p) break;
          out.push(`${p.to} <- ${p.message.from} ${formatBody(p.message.body)}`);
          if (this.nodes.has(p.to)) this.apply(p.to, { kind: 'message', message: p.message }, out);
        }
        if (out.length === 0) out.push('nothing to deliver');
        break;
      }
      case 'drop': {
        const match = this.link(args[0]);
        const dropped = this.pending.filter(match);
        this.pending = this.pending.filter((p) => !match(p));
        out.push(`dropped ${dropped.length}`);
        break;
      }
      case 'dup': {
        const match = this.link(args[0]);
        const copies = this.pending.filter(match);
        this.pending.push(...copies);
        out.push(`duplicated ${copies.length}`);
        break;
      }
      case 'crash':
      case 'wipe': {
        const name = args[0] as string;
        const n = this.node(name);
        const disk = cmd === 'wipe' ? EMPTY_DURABLE : n.disk;
        n.state = initialState(name, n.state.params, disk, n.state.tunables);
        n.disk = disk;
        out.push(`${name} restarted with ${formatDurable(disk)}`);
        break;
      }
      case 'state': {
        const s = this.node(args[0] as string).state;
        const p = s.proposer;
        out.push(`${formatDurable(s.durable)} proposer=${p.kind}${'ballot' in p ? ` ${formatBallot(p.ballot)}` : ''}${s.quorumError ? ' quorum-error' : ''}`);
        break;
      }
      case 'pending':
        for (const p of this.pending) out.push(`${p.message.from} -> ${p.to} ${formatBody(p.message.body)}`);
        if (out.length === 0) out.push('none');
        break;
      default:
        throw new Error(`unknown command: ${command}`);
    }
    return out.length === 0 ? '(nothing)' : out.join('\n');
  }
}

/** Runs one script file's text; returns the text with every command's output as the script produced it. */
export function runScript(text: string): string {
  const world = new ScriptWorld();
  const blocks = text.split(/\n{2,}(?=\S)/);
  const result: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n');
    const sep = lines.indexOf('----');
    const head = sep < 0 ? lines : lines.slice(0, sep);
    const comments = head.filter((l) => l.startsWith('#'));
    const command = head.filter((l) => !l.startsWith('#') && l.trim() !== '').join(' ');
    if (command === '') {
      result.push(head.join('\n'));
      continue;
    }
    result.push([...comments, command, '----', world.run(command)].join('\n'));
  }
  return `${result.join('\n\n').trimEnd()}\n`;
}
