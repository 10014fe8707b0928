// The scan's first, cheap step: does anything accept a TCP connection on the apid port? Most addresses of a
// scanned network have nothing there (or drop the SYN); only the few that accept get the TLS + gRPC probe.
import net from 'node:net';

export type ConnectResult = { open: true } | { open: false; reason: string };

export function probeTcp(address: string, port: number, timeoutMs: number): Promise<ConnectResult> {
  return new Promise((resolve) => {
    let settled = false;
    const socket = net.connect({ host: address, port });
    const finish = (r: ConnectResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ open: false, reason: `no answer within ${timeoutMs}ms` }), timeoutMs);
    socket.once('connect', () => finish({ open: true }));
    socket.once('error', (e: NodeJS.ErrnoException) => finish({ open: false, reason: e.code ?? e.message }));
  });
}
