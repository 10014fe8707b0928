// How operator commands talk to a person: live per-node lines on a terminal, plain timestamped lines
// otherwise (CI logs, pipes), both on stderr; results (a table, or JSON with --output json) on stdout.

export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** stderr is a terminal: progress may redraw in place. */
  tty: boolean;
  now(): Date;
}

export const processIo = (): Io => ({
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  tty: process.stderr.isTTY === true,
  now: () => new Date(),
});

/** The node's name, with its address when another node shares the name (talhelper's --nodes=a,b with one file). */
export function progressLabels(nodes: { address: string; name: string }[]): Map<string, string> {
  const count = new Map<string, number>();
  for (const n of nodes) count.set(n.name, (count.get(n.name) ?? 0) + 1);
  return new Map(nodes.map((n) => [n.address, (count.get(n.name) ?? 0) > 1 && n.name !== n.address ? `${n.name} (${n.address})` : n.name]));
}

/** One line per node, keyed by address: names need not be unique, addresses are. */
export class Progress {
  private readonly lines = new Map<string, string>();
  private readonly labels: Map<string, string>;
  private drawn = 0;

  constructor(
    private readonly io: Io,
    nodes: { address: string; name: string }[],
  ) {
    this.labels = progressLabels(nodes);
    for (const n of nodes) this.lines.set(n.address, 'waiting');
    if (io.tty) this.draw();
  }

  update(address: string, text: string): void {
    if (this.lines.get(address) === text) return;
    this.lines.set(address, text);
    if (this.io.tty) this.draw();
    else this.io.err(`${this.io.now().toISOString()} ${this.label(address)}: ${text}\n`);
  }

  private label(address: string): string {
    return this.labels.get(address) ?? address;
  }

  /** A line that is not about one node. */
  note(text: string): void {
    if (this.io.tty) {
      this.clear();
      this.io.err(`${text}\n`);
      this.draw();
    } else {
      this.io.err(`${this.io.now().toISOString()} ${text}\n`);
    }
  }

  private clear(): void {
    if (this.drawn > 0) this.io.err(`\x1b[${this.drawn}A\x1b[J`);
    this.drawn = 0;
  }

  private draw(): void {
    this.clear();
    const width = Math.max(...[...this.lines.keys()].map((k) => this.label(k).length), 4);
    let text = '';
    for (const [address, line] of this.lines) text += `\x1b[2K  ${this.label(address).padEnd(width)}  ${line}\n`;
    this.io.err(text);
    this.drawn = this.lines.size;
  }
}

/** Columns padded to their widest cell. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [fmt(headers), ...rows.map(fmt)].join('\n') + '\n';
}

export function json(io: Io, value: unknown): void {
  io.out(JSON.stringify(value, null, 2) + '\n');
}
