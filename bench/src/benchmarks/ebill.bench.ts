/**
 * E-bill benchmarks, in-process on PostgreSQL (TEST_DATABASE_URL, a fresh database):
 * - bills issued/s through the sandbox fiscal issuer (gap-free numbering: one counter row locked FOR UPDATE per
 *   bill code, so concurrent issuers serialise on it by design — this is the honest rate for one bill code);
 * - PDFs rendered/s (embedded, subset CJK font + QR), with bytes per PDF as a fact;
 * - verifications/s (issuer register + bill look-up + SM2 signature check; the per-IP gate is left out) against raw
 *   SM2 verify/s measured in the same run.
 */
import { randomUUID } from 'node:crypto';
import { sm2GenerateKeyPair, sm2PrecomputePublicKey, sm2Sign, sm2Verify } from '@yibao/sdk';
import { ebillCenter } from '../../../server/src/centers/ebill/index.ts';
import { loadCjkFont, renderBillPdf } from '../../../server/src/centers/ebill/pdf.ts';
import type { BillView, EbillService } from '../../../server/src/centers/ebill/service.ts';
import type { PaymentEvent } from '../../../server/src/centers/payment/index.ts';
import { createTestPlatform, type TestPlatform } from '../../../server/src/testing/platform.ts';
import type { Benchmark } from '../types.ts';

process.env.TEST_DATABASE_URL ??= 'postgres://postgres@127.0.0.1:5432/postgres';
const R = '990100';

function settlement(i: number): PaymentEvent {
  const lines: PaymentEvent['lines'] = Array.from({ length: 6 }, (_, k) => ({
    code: `00340100023060${k}`,
    name: ['阿莫西林胶囊', '静脉输液', '一次性输液器', '血常规', '门诊诊查费', '布洛芬缓释胶囊'][k],
    itemClass: (['A', 'B', 'C'] as const)[k % 3],
    quantity: 1 + (k % 3),
    amount: 500 + k * 100,
  }));
  const total = lines.reduce((s, l) => s + l.amount, 0);
  return {
    regionCode: R,
    orderId: `BENCH-${randomUUID()}`,
    personId: `bench-${i % 32}`,
    institutionCode: 'H99010000001',
    total,
    fundPayment: Math.floor(total * 0.6),
    accountPayment: Math.floor(total * 0.2),
    cashPayment: total - Math.floor(total * 0.6) - Math.floor(total * 0.2),
    lines,
    settledAt: new Date().toISOString(),
  };
}

interface Ctx {
  platform: TestPlatform;
  svc: EbillService;
  bills: BillView[];
  qr: string[];
  i: number;
  bytes: number[];
}

async function setup(): Promise<Ctx> {
  const platform = await createTestPlatform('postgres', { centers: [ebillCenter] });
  const svc = platform.ctx.services.ebill!;
  const bills: BillView[] = [];
  for (let i = 0; i < 64; i++) bills.push(await svc.issueBlue(settlement(i)));
  const qr = await Promise.all(bills.map((b) => svc.qrText(b, R)));
  return { platform, svc, bills, qr, i: 0, bytes: [] };
}

const teardown = async (ctx: Ctx) => ctx.platform.close();

/** Raw SM2 verify/s of the same message size, same process, same run. */
async function rawSm2VerifyRate(ctx: Ctx): Promise<number> {
  const key = sm2GenerateKeyPair();
  sm2PrecomputePublicKey(key.publicKey);
  const message = ctx.bills[0] ? JSON.stringify(ctx.bills[0]) : 'x'.repeat(1200);
  const sig = sm2Sign(message, key.privateKey);
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < 1500) {
    if (!sm2Verify(message, sig, key.publicKey)) throw new Error('raw SM2 verify failed');
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const benchmarks: Benchmark<Ctx>[] = [
  {
    name: 'e-bill: bills issued/s (sandbox issuer, gap-free numbering, PostgreSQL)',
    unit: 'ops',
    concurrency: 8,
    setup,
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) await ctx.svc.issueBlue(settlement(ctx.i++));
    },
  },
  {
    name: 'e-bill: PDFs rendered/s (embedded CJK subset + QR)',
    unit: 'ops',
    setup,
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) {
        const j = ctx.i++ % ctx.bills.length;
        const pdf = await renderBillPdf(ctx.bills[j], ctx.qr[j], '示范省·东湖市');
        if (ctx.bytes.length < 256) ctx.bytes.push(pdf.length);
      }
    },
    facts: async (ctx) => ({
      'bytes per PDF (mean)': Math.round(ctx.bytes.reduce((s, b) => s + b, 0) / Math.max(1, ctx.bytes.length)),
      'items per bill': ctx.bills[0]?.items.length ?? 0,
      font: loadCjkFont().path.split('/').slice(-3).join('/'),
    }),
  },
  {
    name: 'e-bill: verifications/s (register + signature, PostgreSQL)',
    unit: 'ops',
    concurrency: 8,
    setup,
    teardown,
    run: async (n, ctx) => {
      for (let k = 0; k < n; k++) {
        const b = ctx.bills[ctx.i++ % ctx.bills.length];
        const r = await ctx.svc.verifyForChannel(R, {
          billCode: b.billCode,
          billNumber: b.billNumber,
          checkCode: b.checkCode,
          amount: b.total,
        });
        if (r.result !== 'valid') throw new Error('verification failed during the benchmark');
      }
    },
    floor: { name: 'raw SM2 verify/s (in-process)', opsPerSec: rawSm2VerifyRate },
    goalRatio: 0.3,
  },
];

export default benchmarks;
