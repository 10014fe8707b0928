// Just enough of ELF64 to check a binary against the root it will run in: its machine, the interpreter
// the kernel starts it with (PT_INTERP), and the libraries the loader must find (DT_NEEDED).
// Read from the file's own bytes, so the check does not depend on a host tool.

export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;

export interface ElfFacts {
  machine: number;
  type: number;
  interpreter: string | undefined;
  needed: string[];
}

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

function cString(bytes: Uint8Array, at: number): string {
  let end = at;
  while (end < bytes.length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(at, end));
}

export function readElf(bytes: Uint8Array): ElfFacts {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) throw new Error('not an ELF file');
  if (bytes[4] !== 2) throw new Error('not a 64-bit ELF file');
  if (bytes[5] !== 1) throw new Error('not a little-endian ELF file');
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  const phoff = Number(view.getBigUint64(32, true));
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);

  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    segments.push({
      type: view.getUint32(at, true),
      offset: Number(view.getBigUint64(at + 8, true)),
      vaddr: Number(view.getBigUint64(at + 16, true)),
      filesz: Number(view.getBigUint64(at + 32, true)),
    });
  }
  const interp = segments.find((s) => s.type === PT_INTERP);
  const interpreter = interp ? cString(bytes, interp.offset) : undefined;

  const needed: string[] = [];
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (dynamic) {
    const entries: [bigint, bigint][] = [];
    for (let at = dynamic.offset; at + 16 <= dynamic.offset + dynamic.filesz; at += 16) {
      const tag = view.getBigInt64(at, true);
      if (tag === DT_NULL) break;
      entries.push([tag, view.getBigUint64(at + 8, true)]);
    }
    const strtabAddr = entries.find(([tag]) => tag === DT_STRTAB)?.[1];
    if (strtabAddr === undefined) throw new Error('dynamic section without a string table');
    // DT_STRTAB is a virtual address: map it to a file offset through the loadable segment holding it.
    const load = segments.find((s) => s.type === PT_LOAD && Number(strtabAddr) >= s.vaddr && Number(strtabAddr) < s.vaddr + s.filesz);
    if (!load) throw new Error('string table outside every loadable segment');
    const strtab = Number(strtabAddr) - load.vaddr + load.offset;
    for (const [tag, value] of entries) if (tag === DT_NEEDED) needed.push(cString(bytes, strtab + Number(value)));
  }
  return { machine, type, interpreter, needed };
}
