/**
 * E-voucher benchmarks: dynamic codes issued/s and online verifications/s over HTTP (loopback, keep-alive) on
 * PostgreSQL, against raw SM2 (and Ed25519) verify/s in the same process (the floor). Facts: QR payload length
 * and the QR version it needs at error correction M.
 *
 * The platform runs in a child process (so the load generator does not share its event loop) with the real auth
 * center (channel envelope signatures, nonce table) and the e-voucher center; the user center and the core zone are
 * the e-voucher's in-memory test doubles, so the numbers cover our own work plus the database, not a core-zone trip.
 *
 * Bounds: an online verification checks the channel envelope (an SM2 verify) and the QR token (the issuer holds the
 * private key: one base multiplication, about half a verify), so its ratio to raw SM2 verify/s cannot exceed ≈ 0.67
 * even with no other work (facts: ratioBound, cpuRatioOfBound). Issuing signs one token (fact: sm2SignCpuMs,
 * ratioBoundBySigning). The floor is what an institution does: verify with the public key.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import {
  type EvoucherAlg,
  type EvoucherPublicKey,
  type EvoucherSigningKey,
  generateEvoucherKeyPair,
  issueEvoucherToken,
  signEnvelope,
  sm2PrecomputePublicKey,
  verifyEvoucherToken,
} from '@yibao/sdk';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import QRCode from 'qrcode';
import { buildPlatform } from '../../../server/src/app.ts';
import { authCenter } from '../../../server/src/centers/auth/index.ts';
import { activateThroughSandbox } from '../../../server/src/centers/evoucher/demo.ts';
import { evoucherCenter } from '../../../server/src/centers/evoucher/index.ts';
import { fakeDependencies } from '../../../server/src/centers/evoucher/testing.ts';
import type { Center } from '../../../server/src/platform/center.ts';
import { loadConfig } from '../../../server/src/platform/config.ts';
import { service } from '../../../server/src/platform/context.ts';
import { openPostgres } from '../../../server/src/platform/db/index.ts';
import { migrate } from '../../../server/src/platform/db/migrate.ts';
import { httpText } from '../http-load.ts';
import type { Benchmark } from '../types.ts';

process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const R = '990100';
const PERSONS = 16;
const TYPES = ['01101', '01301', '01302', '02121', '03131'] as const;
/** 5 verifications per token (one per business type). */
const POOL_TOKENS = Number(process.env.EVOUCHER_BENCH_TOKENS ?? 2000);
/** PostgreSQL connections of the server (16 callers, up to 3 statements per request). */
const POOL = 16;

interface Fixture {
  port: number;
  headers: Array<{ authorization: string }>;
  channel: { appId: string; appSecret: string; privateKeyHex: string };
  tokens: string[];
}

interface Ctx extends Fixture {
  child: ChildProcess;
  /** the server's CPU time (ms) when the fixture was ready */
  cpu0: number;
  agent: Agent;
  envelopes: unknown[];
  i: number;
}

/** A platform on a fresh PostgreSQL database with a pool sized for the load (the test helper's pool is 5). */
async function benchPlatform(centers: Center[]) {
  const admin = process.env.TEST_DATABASE_URL!;
  const name = `yibao_bench_ev_${randomBytes(4).toString('hex')}`;
  const adminQuery = async (text: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(text).finally(() => c.end());
  };
  await adminQuery(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.toString(), POOL);
  await migrate(db);
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    JOB_WORKERS: 'false',
    DEMO_SEED: 'false',
    PORT: '0',
  });
  const platform = await buildPlatform(config, { db, centers });
  await platform.start({ seed: false });
  const auth = async (p: { subject: string; regionCode: string }) => ({
    authorization: `Bearer ${await platform.ctx.tokens.issue({ sub: p.subject, kind: 'person', region: p.regionCode, acr: 'pwd', amr: ['pwd'] })}`,
  });
  const close = async () => {
    await platform.close();
    await adminQuery(`drop database if exists ${name} with (force)`);
  };
  return { ...platform, auth, close };
}

/** Server mode (`node evoucher.bench.ts serve`): the platform in its own process, fixtures printed as JSON. */
async function serve(): Promise<void> {
  const persons = Array.from({ length: PERSONS }, (_, i) => ({
    id: `bench-${i}`,
    regionCode: R,
    name: `测试${i}`,
    residentId: `11010119900101${String(1000 + i).slice(-4)}`,
    insurance: 'active' as const,
  }));
  const deps = fakeDependencies(persons);
  const platform = await benchPlatform([authCenter, ...deps.centers, evoucherCenter]);
  await platform.ctx.regions.updateConfig(R, { settings: { evoucher: { qrTtlSeconds: 300 } } });
  const svc = service(platform.ctx, 'evoucher');
  for (const p of persons) await activateThroughSandbox(svc, R, p.id, { id: `d${p.id}` }, { kind: 'person', id: p.id });
  const codes = (
    await platform.ctx.db.q<{ code: string }>(sql`select code from evoucher_voucher where region_code = ${R}`)
  ).map((r) => r.code);
  const channel = await service(platform.ctx, 'auth').registerChannel({
    regionCode: R,
    name: '压测医院',
    type: 'institution',
    scopes: ['evoucher'],
    institutionCode: 'H99010099999',
  });
  const tokens: string[] = [];
  for (let i = 0; i < POOL_TOKENS; i++) tokens.push((await svc.signCode(R, codes[i % codes.length], false)).token);
  await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const address = platform.app.server.address();
  const fixture: Fixture = {
    port: typeof address === 'object' && address ? address.port : 0,
    headers: await Promise.all(persons.map((p) => platform.auth({ subject: p.id, regionCode: R }))),
    channel,
    tokens,
  };
  process.stdout.write(`READY ${JSON.stringify(fixture)}\n`);
  process.on('SIGTERM', () => {
    void platform.close().finally(() => process.exit(0));
  });
}

function start(): Promise<Ctx> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(process.env.EVOUCHER_BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/evprof'] : []),
        new URL(import.meta.url).pathname,
        'serve',
      ],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: process.env,
      },
    );
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const at = out.indexOf('READY ');
      const end = at < 0 ? -1 : out.indexOf('\n', at);
      if (end < 0) return; // the fixture line may arrive in several chunks
      const line = out.slice(at, end);
      out = '';
      const f = JSON.parse(line.slice(6)) as Fixture;
      // Envelopes are signed before timing: the load generator's own SM2 signing is not the server's cost.
      const envelopes = f.tokens.flatMap((token) =>
        TYPES.map((type) =>
          signEnvelope({
            appId: f.channel.appId,
            transType: 'verify',
            data: { qrCode: token, businessType: type },
            privateKey: f.channel.privateKeyHex,
            appSecret: f.channel.appSecret,
          }),
        ),
      );
      resolve({
        ...f,
        child,
        cpu0: processCpuMs(child.pid!),
        agent: new Agent({ keepAlive: true, maxSockets: 64 }),
        envelopes,
        i: 0,
      });
    });
    child.once('exit', (code) => reject(new Error(`evoucher bench server exited with ${code}`)));
  });
}

async function stopServer(ctx: Ctx): Promise<void> {
  ctx.agent.destroy();
  const exited = new Promise((r) => ctx.child.once('exit', r));
  ctx.child.kill('SIGTERM');
  await exited;
}

function post(ctx: Ctx, path: string, body: unknown, headers: Record<string, string> = {}): Promise<string> {
  const payload = JSON.stringify(body);
  return httpText(ctx.agent, ctx.port, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
    body: payload,
  });
}

function keyOf(alg: EvoucherAlg): EvoucherSigningKey {
  return { regionCode: R, keyId: 1, alg, ...generateEvoucherKeyPair(alg) };
}

/** What an institution verifies with: the public key only (the issuer's own check, with the private key, is cheaper). */
const publicOf = ({ privateKey: _, ...key }: EvoucherSigningKey) => key;

function tokensFor(key: EvoucherSigningKey, n: number): string[] {
  const exp = Math.floor(Date.now() / 1000) + 240;
  return Array.from({ length: n }, () =>
    issueEvoucherToken({ voucherCode: randomBytes(8).toString('hex'), expiresAt: exp }, key),
  );
}

/** Raw token signature checks per second in this process (SM2 with the cached window table, or Ed25519). */
function rawVerifyRate(alg: EvoucherAlg): () => Promise<number> {
  return async () => {
    const key = keyOf(alg);
    if (alg === 'SM2') sm2PrecomputePublicKey(key.publicKey);
    const tokens = tokensFor(key, 64);
    const opts = { keyFor: () => publicOf(key) };
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < 1000) {
      verifyEvoucherToken(tokens[n % 64], opts);
      n++;
    }
    return n / ((performance.now() - start) / 1000);
  };
}

/** utime + stime of a process in ms (Linux /proc; 100 ticks per second); NaN elsewhere. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/** CPU ms of one raw SM2 token verification in this process (CPU time, so other load on the machine matters less). */
function sm2VerifyCpuMs(): number {
  const key = keyOf('SM2');
  sm2PrecomputePublicKey(key.publicKey);
  return tokenCheckCpuMs(key, publicOf(key));
}

/** CPU ms per check of 64 tokens signed with `key`, checked with what `checkWith` holds (public or private key). */
function tokenCheckCpuMs(key: EvoucherSigningKey, checkWith: EvoucherPublicKey): number {
  const tokens = tokensFor(key, 64);
  let i = 0;
  return cpuMsPer(2000, () => verifyEvoucherToken(tokens[i++ % 64], { keyFor: () => checkWith }));
}

/** CPU ms per call of `op` in this process (CPU time, so other load on the machine matters less). */
function cpuMsPer(n: number, op: () => unknown): number {
  const t0 = process.cpuUsage();
  for (let i = 0; i < n; i++) op();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000 / n;
}

/** CPU ms of one SM2 token signature (issuing) in this process: the SDK's fixed-sequence, odd-table k·G. */
function sm2SignCpuMs(): number {
  const key = keyOf('SM2');
  const exp = Math.floor(Date.now() / 1000) + 240;
  return cpuMsPer(1000, () => issueEvoucherToken({ voucherCode: '0123456789abcdef', expiresAt: exp }, key));
}

/** Server CPU per request (load-independent): what the ratio would be if the server had a core to itself. */
const serverFacts = async (ctx: Ctx) => {
  const perOp = (processCpuMs(ctx.child.pid!) - ctx.cpu0) / ctx.i;
  const sm2 = sm2VerifyCpuMs();
  return {
    ...(await facts()),
    serverCpuMsPerOp: Number(perOp.toFixed(3)),
    sm2VerifyCpuMs: Number(sm2.toFixed(3)),
    cpuRatio: Number((sm2 / perOp).toFixed(2)),
  };
};

/**
 * Issuing signs one token: its own bound is raw verify ÷ raw sign (a secret nonce takes the fixed-sequence path of
 * regular recoding, not the verifier's variable-time window tables), whatever the server does besides.
 */
const issueFacts = async (ctx: Ctx) => {
  const base = await serverFacts(ctx);
  const sign = sm2SignCpuMs();
  return {
    ...base,
    sm2SignCpuMs: Number(sign.toFixed(3)),
    ratioBoundBySigning: Number((base.sm2VerifyCpuMs / sign).toFixed(2)),
  };
};

/** CPU ms of the issuer's own check of one SM2 token (it holds the private key: one base multiplication). */
function sm2OwnCheckCpuMs(): number {
  const key = keyOf('SM2');
  return tokenCheckCpuMs(key, key);
}

/**
 * An online verification checks the channel's envelope (an SM2 verify) and the QR token (the issuer's own check, one
 * base multiplication), so even a server doing nothing else reaches at most verify ÷ (verify + own check) of raw SM2
 * verify/s (≈ 0.67): that is the bound.
 */
const verifyFacts = async (ctx: Ctx) => {
  const base = await serverFacts(ctx);
  const own = sm2OwnCheckCpuMs();
  const bound = base.sm2VerifyCpuMs / (base.sm2VerifyCpuMs + own);
  return {
    ...base,
    sm2OwnCheckCpuMs: Number(own.toFixed(3)),
    ratioBound: Number(bound.toFixed(2)),
    cpuRatioOfBound: Number((base.cpuRatio / bound).toFixed(2)),
  };
};

const facts = async () => {
  const [token] = tokensFor(keyOf('SM2'), 1);
  const qr = QRCode.create(token, { errorCorrectionLevel: 'M' });
  return { payloadChars: token.length, payloadBytes: 88, qrVersionAtM: qr.version, qrMode: qr.segments[0].mode.id };
};

const issue: Benchmark<Ctx> = {
  name: 'evoucher: issue code, POST /api/evoucher/me/codes (HTTP, PostgreSQL, 16 callers)',
  unit: 'ops',
  concurrency: 16,
  setup: start,
  run: async (_n, ctx) => {
    await post(ctx, '/api/evoucher/me/codes', {}, ctx.headers[ctx.i++ % ctx.headers.length]);
  },
  floor: { name: 'raw SM2 verify/s (in-process)', opsPerSec: rawVerifyRate('SM2') },
  goalRatio: 0.5,
  facts: issueFacts,
  teardown: stopServer,
};

const verify: Benchmark<Ctx> = {
  name: 'evoucher: online verify, signed POST /api/evoucher/channel/verify (HTTP, PostgreSQL, 16 callers)',
  unit: 'ops',
  concurrency: 16,
  setup: start,
  run: async (_n, ctx) => {
    const envelope = ctx.envelopes[ctx.i++];
    if (!envelope) throw new Error('verification pool exhausted: raise EVOUCHER_BENCH_TOKENS');
    await post(ctx, '/api/evoucher/channel/verify', envelope);
  },
  floor: {
    name: 'raw SM2 verify/s (in-process); bound ≈ 0.67: an SM2 verify and an own-key check per request',
    opsPerSec: rawVerifyRate('SM2'),
  },
  goalRatio: 0.5,
  facts: verifyFacts,
  teardown: stopServer,
};

interface OfflineCtx {
  key: EvoucherSigningKey;
  tokens: string[];
  i: number;
}

const offline = (alg: EvoucherAlg): Benchmark<OfflineCtx> => ({
  name: `evoucher: offline token verify, ${alg} key (sdk, in-process)`,
  unit: 'ops',
  setup: async () => {
    const key = keyOf(alg);
    return { key, tokens: tokensFor(key, 64), i: 0 };
  },
  run: async (n, ctx) => {
    const pub = publicOf(ctx.key);
    for (let k = 0; k < n; k++) verifyEvoucherToken(ctx.tokens[ctx.i++ % 64], { keyFor: () => pub });
  },
  floor: { name: `raw ${alg} verify/s (in-process)`, opsPerSec: rawVerifyRate(alg) },
});

export default [issue, verify, offline('SM2'), offline('Ed25519')];

if (process.argv[2] === 'serve' && process.argv[1] === new URL(import.meta.url).pathname) await serve();
