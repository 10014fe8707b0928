// One JSON line per event on stdout, written synchronously: `talosctl logs ext-autobootstrap` shows
// machined's capture of stdout, and pino transports (worker threads) do not survive `bun build --compile`.
import pino from 'pino';

export type Logger = pino.Logger;

// Defence in depth: no code path logs key material, and these paths are blanked should one try.
const REDACT = ['key', 'keyPem', 'privateKey', '*.key', '*.keyPem', '*.privateKey', 'ca.key', 'config'];

export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ fd: 1, sync: true })): Logger {
  return pino(
    {
      level,
      base: undefined,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    destination,
  );
}
