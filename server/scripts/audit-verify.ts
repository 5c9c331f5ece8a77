import { join } from 'node:path';
import { verifyAuditChain } from '../src/platform/audit.ts';
import { loadConfig } from '../src/platform/config.ts';
import { openDatabase } from '../src/platform/db/index.ts';

const config = loadConfig();
const db = await openDatabase({ url: config.DATABASE_URL, dataDir: join(config.DATA_DIR, 'pglite') });
const reports = await verifyAuditChain(db, process.argv[2]);
let broken = false;
for (const r of reports) {
  if (r.brokenAt) {
    broken = true;
    console.log(`✗ ${r.regionCode}: 第 ${r.brokenAt.seq} 条断链 (${r.brokenAt.reason})，此前 ${r.checked} 条完好`);
  } else {
    console.log(`✓ ${r.regionCode}: ${r.checked} 条记录，哈希链完整`);
  }
}
if (reports.length === 0) console.log('尚无审计记录');
await db.close();
process.exit(broken ? 1 : 0);
