/** Password policy and Argon2id hashing (OWASP parameters in production). */
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { AppError } from '../../platform/errors.ts';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: Argon2id, m = 19 MiB, t = 2, p = 1. */
export const OWASP_ARGON2: Argon2Params = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
/** Cheap parameters for test suites only (USER_ARGON2_PROFILE=test, refused in production). */
export const TEST_ARGON2: Argon2Params = { memoryCost: 256, timeCost: 1, parallelism: 1 };

/**
 * The hashing cost knob: `USER_ARGON2_PROFILE` = `owasp` (default) | `test`. `test` is refused when NODE_ENV is
 * production, so a deployment can never run with weak hashing by accident.
 */
export function argon2ParamsFor(nodeEnv: string, env: Record<string, string | undefined> = process.env): Argon2Params {
  const profile = env.USER_ARGON2_PROFILE ?? 'owasp';
  if (profile === 'owasp') return OWASP_ARGON2;
  if (profile === 'test') {
    if (nodeEnv === 'production') throw new Error('USER_ARGON2_PROFILE=test is not allowed in production');
    return TEST_ARGON2;
  }
  throw new Error(`USER_ARGON2_PROFILE must be owasp or test, got "${profile}"`);
}

const ARGON2ID = 2 as Algorithm;

export class PasswordHasher {
  readonly params: Argon2Params;
  private dummy?: Promise<string>;

  constructor(params: Argon2Params) {
    this.params = params;
  }

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.params });
  }

  /** Verifies against a stored PHC string; a missing hash burns the same time and fails (no account oracle). */
  async verify(stored: string | null | undefined, password: string): Promise<boolean> {
    if (!stored) {
      this.dummy ??= this.hash('dummy-password-for-timing');
      await verify(await this.dummy, password).catch(() => false);
      return false;
    }
    try {
      return await verify(stored, password);
    } catch {
      return false;
    }
  }

  /** True when the stored hash is weaker than the current parameters (upgrade it after a successful verify). */
  needsRehash(stored: string): boolean {
    const m = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(stored);
    if (!m) return true;
    return Number(m[1]) < this.params.memoryCost || Number(m[2]) < this.params.timeCost;
  }
}

const CLASSES = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/];

/** The person's password rules: ≥ 8 characters, three of four classes, not containing the ID number or the mobile. */
export function checkPasswordPolicy(password: string, facts: { residentId?: string; mobile?: string } = {}): void {
  const fail = (code: string, title: string, message: string) =>
    new AppError(400, code, title, message, { errors: [{ field: 'password', message }] });
  if (password.length < 8) throw fail('USER_PASSWORD_TOO_SHORT', '密码长度不足', '密码至少 8 位');
  if (password.length > 128) throw fail('USER_PASSWORD_TOO_LONG', '密码过长', '密码最多 128 位');
  if (CLASSES.filter((c) => c.test(password)).length < 3) {
    throw fail('USER_PASSWORD_TOO_WEAK', '密码强度不足', '密码须包含大写字母、小写字母、数字、符号中的至少三类');
  }
  const upper = password.toUpperCase();
  if (facts.residentId && upper.includes(facts.residentId.toUpperCase())) {
    throw fail('USER_PASSWORD_CONTAINS_ID', '密码不能包含身份证号', '密码中不能包含本人的身份证号码');
  }
  if (facts.mobile && password.includes(facts.mobile)) {
    throw fail('USER_PASSWORD_CONTAINS_MOBILE', '密码不能包含手机号', '密码中不能包含本人的手机号码');
  }
}

/** A random temporary password that satisfies the policy (staff resets). */
export function temporaryPassword(): string {
  const sets = ['ABCDEFGHJKLMNPQRSTUVWXYZ', 'abcdefghijkmnpqrstuvwxyz', '23456789', '@#%+=!'];
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  const chars = [...bytes].map((b, i) => {
    const set = sets[i % sets.length];
    return set[b % set.length];
  });
  return chars.join('');
}
