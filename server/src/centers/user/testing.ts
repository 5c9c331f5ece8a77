/** Test helpers other centers' suites may use: valid random identities and ready-made person accounts. */
import { randomInt } from 'node:crypto';
import type { Center } from '../../platform/center.ts';
import { service } from '../../platform/context.ts';
import { residentIdCheckChar, usccCheckChar } from '../../platform/privacy/index.ts';
import type { TestPlatform } from '../../testing/platform.ts';
import type { PersonAccount } from './service.ts';

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A random GB 11643 resident ID (valid check character) with the given 6-digit address code. */
export function randomResidentId(addressCode = '990101'): string {
  const year = randomInt(1940, 2010);
  const month = randomInt(1, 13);
  const day = randomInt(1, 29);
  const first17 = `${addressCode}${year}${pad(month, 2)}${pad(day, 2)}${pad(randomInt(0, 1000), 3)}`;
  return first17 + residentIdCheckChar(first17);
}

export function randomMobile(): string {
  return `1${randomInt(3, 10)}${pad(randomInt(0, 1_000_000_000), 9)}`;
}

const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';

/** A random GB 32100 code (valid check character) registered in the given region. */
export function randomUscc(regionCode = '990100'): string {
  let org = '';
  for (let i = 0; i < 9; i++) org += USCC_CHARS[randomInt(0, USCC_CHARS.length)];
  const first17 = `91${regionCode}${org}`;
  return first17 + usccCheckChar(first17)!;
}

const SURNAMES = ['王', '李', '张', '刘', '陈', '杨', '赵', '黄', '周', '吴'];
const GIVEN = ['伟', '芳', '娜', '敏', '静', '丽', '强', '磊', '军', '洋', '勇', '艳'];

export function randomName(): string {
  return (
    SURNAMES[randomInt(0, SURNAMES.length)] + GIVEN[randomInt(0, GIVEN.length)] + GIVEN[randomInt(0, GIVEN.length)]
  );
}

/** A policy-compliant random password. */
export function randomPassword(): string {
  return `Tp@${randomInt(0, 1e9).toString(36)}x${randomInt(0, 1e6)}`;
}

/**
 * Creates an active person account in the region (default 990100) through the user service and returns it with its
 * password. Hashing uses the center's configured cost (set USER_ARGON2_PROFILE=test in a suite to make it cheap).
 */
export async function createTestPerson(
  platform: Pick<TestPlatform, 'ctx'>,
  overrides: Partial<{
    regionCode: string;
    name: string;
    residentId: string;
    mobile: string;
    password: string;
    username: string;
  }> = {},
): Promise<PersonAccount & { password: string }> {
  const regionCode = overrides.regionCode ?? '990100';
  const password = overrides.password ?? randomPassword();
  const person = await service(platform.ctx, 'user').createPerson({
    regionCode,
    name: overrides.name ?? randomName(),
    residentId: overrides.residentId ?? randomResidentId(`${regionCode.slice(0, 4)}01`),
    mobile: overrides.mobile ?? randomMobile(),
    password,
    ...(overrides.username ? { username: overrides.username } : {}),
  });
  return { ...person, password };
}

/**
 * TEST DOUBLE of the auth center's SMS one-time codes (sendOtp/verifyOtp), for suites that run without the real
 * auth center. `codes` shows what would have been texted; a code is single-use.
 */
export function otpDoubleCenter(): Center & { codes: Map<string, string>; send(k: OtpKey): string } {
  const codes = new Map<string, string>();
  const key = (k: OtpKey) => `${k.regionCode}|${k.mobile}|${k.purpose}`;
  const send = (k: OtpKey) => {
    const code = pad(randomInt(0, 1_000_000), 6);
    codes.set(key(k), code);
    return code;
  };
  return {
    name: 'auth-otp-double',
    description: '测试替身: 短信验证码',
    codes,
    send,
    init(ctx) {
      (ctx.services as unknown as Record<string, unknown>).auth = {
        sendOtp: async (k: OtpKey) => void send(k),
        verifyOtp: async (k: OtpKey & { code: string }) => {
          const ok = codes.get(key(k)) === k.code;
          if (ok) codes.delete(key(k));
          return ok;
        },
        endSessions: async () => 0, // no provider here, so no sign-ins to end
        forgetLoginFailures: async () => {}, // nor a login guard
      };
    },
  };
}

interface OtpKey {
  regionCode: string;
  mobile: string;
  purpose: string;
}
