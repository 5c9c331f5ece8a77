/**
 * `npm run core-zone`: the reference core zone as its own process (沙箱核心区), answering the national message shape
 * on POST /fsi/api/callService (port CORE_ZONE_PORT, default 3100). Uses DATABASE_URL when set, else its own PGlite
 * directory (DATA_DIR/core-zone). Seeds the demo regions when empty. Point the platform at it with
 * CORE_ZONE_URL=http://127.0.0.1:3100.
 */
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../../platform/config.ts';
import { openDatabase } from '../../../platform/db/index.ts';
import { migrate } from '../../../platform/db/migrate.ts';
import { createPrivacy } from '../../../platform/privacy/index.ts';
import { ReferenceCoreZone } from '../reference/core-zone.ts';
import { isSeeded, seedReference } from '../reference/seed.ts';
import { createCoreZoneServer } from './server.ts';

const config = loadConfig(process.env);
const log = pino({ level: config.LOG_LEVEL });
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'core-zone') });
await migrate(db);
const core = new ReferenceCoreZone({ db, privacy: createPrivacy(config.DATA_KEYS, config.BLIND_INDEX_KEY) });
if (config.DEMO_SEED && !(await isSeeded(core))) {
  log.info('核心区（沙箱）：载入示范数据');
  await seedReference(core);
}
const server = createCoreZoneServer(core, { log: (msg, o) => log.error(o, msg), secret: config.CORE_ZONE_SECRET });
server.listen(config.CORE_ZONE_PORT, config.HOST, () => {
  log.info({ port: config.CORE_ZONE_PORT }, '示范核心区（沙箱）已启动：POST /fsi/api/callService');
});
const stop = async () => {
  server.close();
  await db.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
