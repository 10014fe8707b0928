// Where the STATE partition is and whether it is encrypted: the by-partlabel symlink resolved to its
// kernel name (sda6, vda5, nvme0n1p5, loop3), and the LUKS magic at the partition's first bytes.
import { closeSync, lstatSync, openSync, readSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { errorCode } from '../../util/error-code.ts';

export type StatePartition =
  | { found: true; label: string; device: string; kernelName: string }
  | { found: false; reason: string };

/** LUKS1 and LUKS2 headers both start with these six bytes. */
const LUKS_MAGIC = Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);

export function locateStatePartition(byPartlabel: string): StatePartition {
  try {
    lstatSync(byPartlabel);
  } catch {
    return { found: false, reason: `no partition labelled STATE: ${byPartlabel} does not exist` };
  }
  let device: string;
  try {
    device = realpathSync(byPartlabel);
  } catch (e) {
    return { found: false, reason: `${byPartlabel} points to nothing that exists (${errorCode(e)})` };
  }
  return { found: true, label: byPartlabel, device, kernelName: basename(device) };
}

export type Encryption = { luks: boolean } | { error: string };

export function detectLuks(device: string): Encryption {
  let fd: number | undefined;
  try {
    fd = openSync(device, 'r');
    const head = Buffer.alloc(LUKS_MAGIC.length);
    const n = readSync(fd, head, 0, head.length, 0);
    return { luks: n === head.length && head.equals(LUKS_MAGIC) };
  } catch (e) {
    return { error: `cannot read the first bytes of ${device}: ${errorCode(e)}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
