/**
 * A local SMTP server in its own process (benchmarks): accepts every message, counts them, and answers "count" on
 * stdin with "COUNT n". Prints "PORT n" when listening. Loopback only.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

let received = 0;
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  logger: false,
  closeTimeout: 100,
  onData(stream, _session, callback) {
    stream.on('data', () => {});
    stream.on('end', () => {
      received++;
      callback();
    });
  },
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`PORT ${(server.server.address() as AddressInfo).port}\n`);
});
process.stdin.on('data', (d) => {
  if (d.toString().includes('count')) process.stdout.write(`COUNT ${received}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
