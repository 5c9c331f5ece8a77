import { resolve } from 'node:path';
import { buildPlatform } from './app.ts';
import type { DemoAccount } from './platform/center.ts';
import { ConfigError, loadConfig } from './platform/config.ts';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78);
    }
    throw err;
  }
  const platform = await buildPlatform(config);
  await platform.start();
  await platform.listen();
  // the address the portals' OIDC clients are registered with: login only works from there
  const base = platform.ctx.publicUrl;
  const accounts = platform.centers.flatMap((c) => c.demoAccounts?.(platform.ctx) ?? []);
  const database = config.DATABASE_URL ? 'PostgreSQL' : `PGlite (${resolve(config.DATA_DIR)})`;
  console.log(banner(base, database, config.DEMO_SEED ? accounts : []));
  const shutdown = async () => {
    await platform.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function banner(base: string, database: string, accounts: DemoAccount[]): string {
  return [
    '',
    '医保公共服务平台 Yibao 已启动',
    `  数据库      ${database}`,
    `  个人网厅    ${base}/personal`,
    `  单位网厅    ${base}/unit`,
    `  管理后台    ${base}/console`,
    `  医药机构    ${base}/institution`,
    `  接口文档    ${base}/docs   (OpenAPI: ${base}/openapi.json)`,
    `  健康检查    ${base}/healthz  ${base}/readyz  ${base}/metrics`,
    ...(accounts.length
      ? [
          '',
          '演示账号 (demo accounts)',
          ...accounts.map((a) => `  ${a.who.padEnd(14)} ${a.where.padEnd(12)} ${a.login}`),
        ]
      : []),
    '',
  ].join('\n');
}

await main();
