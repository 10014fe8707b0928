// mount(2) and umount2(2) straight from libc through bun:ffi: the service's root holds no mount binary,
// and a library call gives the errno itself instead of a message to parse.
import { dlopen, FFIType, read, type Pointer } from 'bun:ffi';
import type { MountSyscalls } from './syscalls.ts';

/** A NUL-terminated copy of a path for a C `const char *`. */
const cString = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

let lib: ReturnType<typeof open> | undefined;

function open() {
  return dlopen('libc.so.6', {
    mount: { args: [FFIType.ptr, FFIType.ptr, FFIType.ptr, FFIType.u64, FFIType.ptr], returns: FFIType.i32 },
    umount2: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    // errno is thread-local; glibc exposes its address. Read right after the failing call, on the same thread.
    __errno_location: { args: [], returns: FFIType.ptr },
  });
}

function errno(): number {
  const at = (lib as ReturnType<typeof open>).symbols.__errno_location() as Pointer | null;
  return at === null ? -1 : read.i32(at, 0);
}

export function libcMount(): MountSyscalls {
  lib ??= open();
  const { symbols } = lib;
  return {
    mount(source, target, fsType, flags) {
      const rc = symbols.mount(cString(source), cString(target), cString(fsType), BigInt(flags), null);
      return rc === 0 ? 0 : errno();
    },
    umount2(target, flags) {
      const rc = symbols.umount2(cString(target), flags);
      return rc === 0 ? 0 : errno();
    },
  };
}

/** Opens libc only when a source first mounts, so hosts that never need STATE never load it. */
export function lazyLibcMount(): MountSyscalls {
  let real: MountSyscalls | undefined;
  return {
    mount: (...args) => (real ??= libcMount()).mount(...args),
    umount2: (...args) => (real ??= libcMount()).umount2(...args),
  };
}
