// Prints the capabilities Talos grants an extension service on a node whose machined has every capability
// bound (0..CAP_LAST_CAP = 40), one per line: the input of the seccomp profile generator (make seccomp-profile).
import { CAPABILITY_NAMES, DROPPED_CAPABILITIES } from './talos-spec.ts';

process.stdout.write(`${CAPABILITY_NAMES.filter((c) => !DROPPED_CAPABILITIES.includes(c)).join('\n')}\n`);
