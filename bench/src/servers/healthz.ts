// Child process for the HTTP benchmarks: `node healthz.ts platform|bare` prints the port it listens on.

import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildPlatform } from '@yibao/server';
import { loadConfig } from '../../../server/src/platform/config.ts';

const mode = process.argv[2];
if (mode === 'bare') {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end('{"status":"ok"}');
  });
  server.listen(0, '127.0.0.1', () => console.log(`PORT ${(server.address() as { port: number }).port}`));
} else {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    DEMO_SEED: 'false',
    JOB_WORKERS: 'false',
    DATA_DIR: mkdtempSync(join(tmpdir(), 'yibao-bench-')),
  });
  const platform = await buildPlatform(config);
  await platform.start({ seed: false });
  const address = await platform.listen();
  console.log(`PORT ${new URL(address).port}`);
}
