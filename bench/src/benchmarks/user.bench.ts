/**
 * User center benchmarks on PostgreSQL (in-process platform, user center only):
 * - person password verification through UserService.verifyLogin (blind-index look-up + Argon2id with the OWASP
 *   parameters m=19456 KiB, t=2, p=1) against raw Argon2id verify/s with the same parameters (the floor);
 * - login-identifier look-up (blind index → decrypt) and cached permission resolution.
 */
import { userCenter } from '../../../server/src/centers/user/index.ts';
import type { UserService } from '../../../server/src/centers/user/service.ts';
import { createTestPerson } from '../../../server/src/centers/user/testing.ts';
import { service } from '../../../server/src/platform/context.ts';
import { createTestPlatform, type TestPlatform } from '../../../server/src/testing/platform.ts';
import { rawArgon2Rate } from '../floors.ts';
import type { Benchmark } from '../types.ts';

process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const R = '990100';
const PERSONS = 32;
const PASSWORD = 'Bench@pass2024';

interface Ctx {
  platform: TestPlatform;
  users: UserService;
  logins: string[];
  staffId: string;
  i: number;
}

async function setup(): Promise<Ctx> {
  if (process.env.USER_ARGON2_PROFILE === 'test') throw new Error('the user bench needs the OWASP hashing profile');
  const platform = await createTestPlatform('postgres', { centers: [userCenter], seed: true });
  const users = service(platform.ctx, 'user');
  const logins: string[] = [];
  for (let i = 0; i < PERSONS; i++) {
    const p = await createTestPerson(platform, { password: PASSWORD });
    logins.push([p.mobile, p.residentId][i % 2]);
  }
  const admin = await users.findStaffByUsername(platform.ctx.config.SUPERADMIN_USERNAME);
  return { platform, users, logins, staffId: admin!.id, i: 0 };
}

const teardown = async (ctx: Ctx) => ctx?.platform.close();

export default [
  {
    name: 'user: 个人密码校验 verifyLogin (盲索引查找 + Argon2id OWASP)',
    unit: 'ops',
    setup,
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) {
        const login = ctx.logins[ctx.i++ % ctx.logins.length];
        if (!(await ctx.users.verifyLogin(R, login, PASSWORD))) throw new Error('login failed');
      }
    },
    floor: { name: 'raw Argon2id verify (m=19456,t=2,p=1)', opsPerSec: () => rawArgon2Rate(PASSWORD) },
    goalRatio: 0.8,
  },
  {
    name: 'user: 登录标识查找 findPersonByLogin (盲索引, 解密)',
    unit: 'ops',
    setup,
    teardown,
    concurrency: 8,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) {
        const login = ctx.logins[ctx.i++ % ctx.logins.length];
        if (!(await ctx.users.findPersonByLogin(R, login))) throw new Error('not found');
      }
    },
  },
  {
    name: 'user: 权限解析 permissionsOf (5 秒缓存)',
    unit: 'ops',
    setup,
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++)
        if (!(await ctx.users.permissionsOf(ctx.staffId, R)).has('*')) throw new Error('perm');
    },
  },
] satisfies Benchmark<Ctx>[];
