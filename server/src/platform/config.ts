import { z } from 'zod';

const bool = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

const hexKey = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-fA-F]{${bytes * 2}}$`), `应为 ${bytes} 字节的十六进制字符串`);

/** Every environment variable the server reads, with its default. The README's table is generated from this. */
export const configSchema = z.object({
  NODE_ENV: z
    .enum(['development', 'production', 'test'])
    .default('development')
    .describe('production refuses the built-in development secrets'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('HTTP port'),
  HOST: z.string().default('0.0.0.0').describe('listen address'),
  PUBLIC_URL: z
    .url()
    .optional()
    .describe('外部访问地址 (issuer of tokens, links in messages); default http://localhost:PORT'),
  DATABASE_URL: z.string().startsWith('postgres').optional().describe('PostgreSQL URL; unset = embedded PGlite'),
  DATA_DIR: z.string().default('./data').describe('PGlite data directory'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('pino log level'),
  BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024)
    .describe('largest request body in bytes (larger → 413)'),
  DEMO_SEED: bool.default(true).describe('load demo data at start when the database is empty'),
  DEFAULT_REGION: z
    .string()
    .regex(/^\d{6}$/)
    .default('990100')
    .describe('region of anonymous requests without X-Region-Code'),
  DATA_KEYS: z
    .string()
    .default('k1:' + '00'.repeat(32))
    .describe('personal-data encryption keys "id:hex64,id2:hex64"; the last one encrypts'),
  BLIND_INDEX_KEY: hexKey(32).default('11'.repeat(32)).describe('HMAC-SM3 key of the blind indexes (64 hex chars)'),
  SUPERADMIN_USERNAME: z.string().min(3).default('admin').describe('super-admin seeded at start'),
  SUPERADMIN_PASSWORD: z
    .string()
    .min(8)
    .default('Admin@12345')
    .describe('its password (must be changed in production)'),
  JOB_POLL_MS: z.coerce
    .number()
    .int()
    .min(10)
    .default(500)
    .describe('job worker poll interval in ms (LISTEN/NOTIFY wakes workers sooner)'),
  JOB_WORKERS: bool.default(true).describe('run job workers in this process'),
  CORE_ZONE_URL: z.url().optional().describe('real core zone; unset = in-process reference core zone'),
  CORE_ZONE_PORT: z.coerce.number().int().min(0).max(65535).default(3100).describe('port of `npm run core-zone`'),
  CORE_ZONE_SECRET: z
    .string()
    .min(16)
    .default('yibao-core-zone-development-only')
    .describe('shared secret of the signed platform ↔ core-zone calls (HMAC-SM3); both sides set the same'),
  OUTBOUND_ALLOW_LOOPBACK: bool
    .optional()
    .describe('callbacks and back-channel logout may reach loopback addresses (default: outside production)'),
  STAFF_PASSWORD_MAX_AGE_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(3650)
    .default(90)
    .describe(
      'a staff password older than this must be changed at the next login, with a reminder a week before (0 = never)',
    ),
  LOGIN_HISTORY_DAYS: z.coerce
    .number()
    .int()
    .min(180)
    .default(365)
    .describe('days the login history (登录记录, 登录监控) is kept; at least 180 (network logs are kept 6 months)'),
  SMTP_URL: z.string().optional().describe('smtp://user:pass@host:port; unset = sandbox mail outbox'),
  MAIL_FROM: z.string().default('医保服务平台 <noreply@yibao.local>').describe('sender of e-mails'),
  WEB_DIST: z.string().optional().describe('built web app directory; default web/dist'),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const input = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`配置无效 (invalid configuration):\n${lines.join('\n')}`);
  }
  if (parsed.data.NODE_ENV === 'production') assertProductionSecrets(parsed.data);
  return parsed.data;
}

function assertProductionSecrets(c: Config): void {
  const defaults = configSchema.parse({});
  const secrets = [
    'DATA_KEYS',
    'BLIND_INDEX_KEY',
    'SUPERADMIN_PASSWORD',
    ...(c.CORE_ZONE_URL ? ['CORE_ZONE_SECRET'] : []),
  ];
  for (const key of secrets as Array<keyof Config>) {
    if (c[key] === defaults[key]) throw new ConfigError(`配置无效: ${key} must be set in production`);
  }
}

export function publicUrl(c: Config): string {
  return c.PUBLIC_URL ?? `http://localhost:${c.PORT}`;
}
