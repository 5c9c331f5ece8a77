import { buildPlatform } from './app.ts';
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
  const address = await platform.listen();
  const base = config.PUBLIC_URL ?? address.replace('0.0.0.0', 'localhost').replace('[::]', 'localhost');
  console.log(banner(base, config.DATABASE_URL ? 'PostgreSQL' : `PGlite (${config.DATA_DIR})`));
  const shutdown = async () => {
    await platform.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

function banner(base: string, database: string): string {
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
    '  演示账号见 README.md「演示账号」',
    '',
  ].join('\n');
}

await main();
