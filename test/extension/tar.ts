// A small tar reader (ustar, with GNU long names and pax path records), enough to list an OCI archive and
// its layers and to read their small JSON files, without trusting a host tool.

export interface TarEntry {
  name: string;
  /** '0' regular file, '2' symlink, '5' directory, ... */
  type: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  linkname: string;
  data: Uint8Array;
}

const decoder = new TextDecoder();
const field = (block: Uint8Array, at: number, len: number) => decoder.decode(block.subarray(at, at + len)).replace(/\0.*$/s, '');
const octal = (block: Uint8Array, at: number, len: number) => parseInt(field(block, at, len).trim() || '0', 8);

function paxPath(data: Uint8Array): string | undefined {
  // Records: "<length> <key>=<value>\n".
  for (const record of decoder.decode(data).split('\n')) {
    const m = /^\d+ path=(.*)$/s.exec(record);
    if (m) return m[1];
  }
  return undefined;
}

export function readTar(bytes: Uint8Array): TarEntry[] {
  const entries: TarEntry[] = [];
  let at = 0;
  let longName: string | undefined;
  while (at + 512 <= bytes.length) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = octal(header, 124, 12);
    const type = field(header, 156, 1) || '0';
    const data = bytes.subarray(at + 512, at + 512 + size);
    at += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = decoder.decode(data).replace(/\0+$/, '');
      continue;
    }
    if (type === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (type === 'g') continue;
    const prefix = field(header, 345, 155);
    const name = longName ?? (prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100));
    longName = undefined;
    entries.push({ name, type, mode: octal(header, 100, 8), uid: octal(header, 108, 8), gid: octal(header, 116, 8), size, linkname: field(header, 157, 100), data });
  }
  return entries;
}

/** Entry names without a leading "./" and without a trailing "/". */
export const cleanName = (name: string) => name.replace(/^\.\//, '').replace(/\/$/, '');
