import { join } from 'node:path';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase } from '../src/platform/db/index.ts';
import { migrate } from '../src/platform/db/migrate.ts';

const config = loadConfig();
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') });
const applied = await migrate(db);
console.log(applied.length ? `已执行迁移:\n  ${applied.join('\n  ')}` : '数据库已是最新');
await db.close();
