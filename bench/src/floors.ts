/** Cost floors shared by benchmarks: what the same machine does natively or with the bare primitive. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { hash, verify } from '@node-rs/argon2';
import { OWASP_ARGON2 } from '../../server/src/centers/user/password.ts';

/**
 * Raw Argon2id verify/s with the OWASP parameters (m=19456 KiB, t=2, p=1), ~2 s; `concurrency` verifies at a time
 * (libuv's thread pool runs them on every core), as a benchmark with that many concurrent callers gets.
 */
export async function rawArgon2Rate(password = 'Bench@pass2024', concurrency = 1): Promise<number> {
  const h = await hash(password, { algorithm: 2, ...OWASP_ARGON2 });
  const until = performance.now() + 2000;
  const start = performance.now();
  let n = 0;
  const worker = async () => {
    while (performance.now() < until) {
      if (!(await verify(h, password))) throw new Error('argon2 verify failed');
      n++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return n / ((performance.now() - start) / 1000);
}

/** Parses the `verify/s` column of the SM2 row of `openssl speed sm2` output; NaN when absent. */
export function parseOpensslVerifyRate(output: string): number {
  const lines = output.split('\n');
  const header = lines.findIndex((line) => /sign\/s\s+verify\/s/.test(line));
  if (header < 0) return Number.NaN;
  const row = lines.slice(header + 1).find((line) => /SM2/i.test(line));
  const numbers = row?.trim().split(/\s+/).map(Number).filter(Number.isFinite) ?? [];
  return numbers.length >= 2 ? (numbers.at(-1) as number) : Number.NaN;
}

/** OpenSSL's native SM2 verify/s on this machine (`openssl speed -seconds 1 sm2`), NaN if unavailable. */
export async function opensslSm2VerifyRate(): Promise<number> {
  try {
    const { stdout } = await promisify(execFile)('openssl', ['speed', '-seconds', '1', 'sm2'], { timeout: 60_000 });
    return parseOpensslVerifyRate(stdout);
  } catch {
    return Number.NaN;
  }
}
