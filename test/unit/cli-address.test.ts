// Node and endpoint addresses as talosctl takes them: IPv4 or hostname, optionally with :port; nothing else.
import { expect, test } from 'bun:test';
import { parseHostPort } from '../../src/cli/inputs/node-address.ts';

test('parseHostPort: a row per shape', () => {
  const rows: [string, ReturnType<typeof parseHostPort>][] = [
    ['10.0.0.1', { host: '10.0.0.1', port: 50000, ip: true }],
    ['10.0.0.1:50001', { host: '10.0.0.1', port: 50001, ip: true }],
    ['cp1', { host: 'cp1', port: 50000, ip: false }],
    ['cp1.example.com:443', { host: 'cp1.example.com', port: 443, ip: false }],
    ['CP1.Example.com.', { host: 'CP1.Example.com', port: 50000, ip: false }],
    ['10.0.0.256', undefined],
    ['10.0.0', undefined],
    ['fd00::1', undefined],
    ['[fd00::1]:50000', undefined],
    ['cp_1', undefined],
    ['-cp1', undefined],
    ['10.0.0.1:0', undefined],
    ['10.0.0.1:65536', undefined],
    ['', undefined],
  ];
  for (const [text, want] of rows) expect([text, parseHostPort(text)]).toEqual([text, want]);
});
