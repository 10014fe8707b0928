// A bad flag, plan, config or talosconfig: the command stops before touching any node and exits 2.
export class UsageError extends Error {}
