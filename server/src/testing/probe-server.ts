// A platform process with only the probe center, for the two-process tests: prints "PORT n" once listening.
import { buildPlatform } from '../app.ts';
import { loadConfig } from '../platform/config.ts';
import { probeCenter } from './probe-center.ts';

const config = loadConfig({ ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', JOB_POLL_MS: '50' });
const platform = await buildPlatform(config, { centers: [probeCenter] });
await platform.start({ seed: false });
const address = await platform.listen();
console.log(`PORT ${new URL(address).port}`);
process.on('SIGTERM', async () => {
  await platform.close();
  process.exit(0);
});
