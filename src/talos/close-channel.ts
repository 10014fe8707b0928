// Closing a grpc-js channel without leaving a connection behind.
//
// A channel's first call starts name resolution, and for an IP target (`10.0.0.1:50000`) grpc-js hands the
// address over in a setImmediate (@grpc/grpc-js 1.14, src/resolver-dns.ts `startResolution`; src/resolver-ip.ts
// and src/resolver-uds.ts use process.nextTick) that the resolver's destroy() does not cancel. If the channel
// is closed before that callback runs, the callback still reaches the already destroyed load balancer, which
// then creates, connects and picks a subchannel that nothing references any more: the connection stays
// ESTABLISHED for the life of the process, with its timers. Bun runs expired timers before immediates, so a
// call's deadline timer that fires in the same loop turn (a stalled loop under load, a short SCAN_TIMEOUT) and
// closes the channel from its error path is enough. An immediate queued at close time runs after every
// immediate and nextTick queued before it, so the pending resolution is delivered to a live channel first and
// the close then releases its subchannel.

/**
 * Runs `close` (the grpc-js Client/Channel close calls) once any name resolution already started has been
 * delivered: in an immediate queued now. Returns at once; `close` runs at most once per call of this function.
 */
export function closeAfterPendingResolution(close: () => void): void {
  setImmediate(close);
}
