/**
 * TEST ONLY: a started platform with the payment center (and the auth center for the channel routes), listening on
 * a loopback port for the provider's notifications, and the sandbox provider in its own process.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreZone } from '../../integration/core-zone/port.ts';
import type { Center } from '../../platform/center.ts';
import type { DatabaseKind } from '../../platform/db/testing.ts';
import { createTestPlatform, type TestPlatform } from '../../testing/platform.ts';
import { authCenter } from '../auth/index.ts';
import { createPaymentCenter } from './index.ts';
import { SandboxPaymentProvider, sandboxAdmin } from './provider/sandbox/client.ts';
import { type SandboxProcess, spawnSandbox } from './provider/sandbox/process.ts';
import type { FaultHook, Order, PaymentService, PersonDirectory, UploadInput } from './service.ts';

export interface Harness {
  platform: TestPlatform;
  payment: PaymentService;
  sandbox: SandboxProcess;
  provider: SandboxPaymentProvider;
  baseUrl: string;
  persons: Map<string, string>;
  setFaults(hook: FaultHook | undefined): void;
  admin<T = unknown>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
  /** the person pays at the sandbox cashier */
  pay(orderId: string, force?: boolean): Promise<unknown>;
  waitFor(orderId: string, pred: (o: Order) => boolean, ms?: number): Promise<Order>;
  /** an institution's 6201 upload for the person: 990100, H99010200001, channel test-app, 普通门诊, unless `over` */
  upload(residentId: string, lines: UploadInput['lines'], over?: Partial<UploadInput>): Promise<Order>;
  close(): Promise<void>;
}

export async function startHarness(
  kind: DatabaseKind,
  opts: {
    coreZone?: () => CoreZone;
    /** centers listed before the auth center (core zone, user center) */
    centersBefore?: Center[];
    /** resolve persons through the real user center instead of the in-test directory */
    realPersons?: boolean;
    sandbox?: SandboxProcess;
    timeoutMs?: number;
  } = {},
): Promise<Harness> {
  const sandbox = opts.sandbox ?? (await spawnSandbox());
  const provider = new SandboxPaymentProvider({
    baseUrl: sandbox.url,
    secret: sandbox.secret,
    timeoutMs: opts.timeoutMs ?? 2000,
  });
  const persons = new Map<string, string>(); // residentId → personId
  const directory: PersonDirectory = {
    personIdFor: async (_r, residentId) => persons.get(residentId),
    residentIndexOf: async (_r, personId) => {
      for (const [rid, pid] of persons)
        if (pid === personId) return platform.ctx.privacy.blindIndex(rid, 'resident_id');
      return undefined;
    },
  };
  let baseUrl = '';
  let faults: FaultHook | undefined;
  const center = createPaymentCenter({
    provider,
    coreZone: opts.coreZone,
    persons: opts.realPersons ? undefined : () => directory,
    notifyBaseUrl: () => baseUrl,
    faults: (step, id) => faults?.(step, id),
  });
  const platform = await createTestPlatform(kind, { centers: [...(opts.centersBefore ?? []), authCenter, center] });
  baseUrl = await platform.app.listen({ port: 0, host: '127.0.0.1' });
  const payment = platform.ctx.services.payment!;
  const admin = <T>(method: 'GET' | 'POST', path: string, body?: unknown) =>
    sandboxAdmin<T>(sandbox.url, method, path, body);
  return {
    platform,
    payment,
    sandbox,
    provider,
    baseUrl,
    persons,
    setFaults: (hook) => {
      faults = hook;
    },
    admin,
    pay: (orderId, force = false) => admin('POST', `/admin/orders/${orderId}/pay`, { force }),
    async waitFor(orderId, pred, ms = 8000) {
      const until = Date.now() + ms;
      for (;;) {
        const order = await payment.getOrder(orderId.slice(1, 7), orderId);
        if (pred(order)) return order;
        if (Date.now() > until) {
          const refunds = await payment.refunds(order.regionCode, orderId);
          throw new Error(
            `order ${orderId} stuck in ${order.status} ${JSON.stringify(refunds.map((r) => [r.kind, r.status, r.insuranceStatus, r.cashStatus, r.lastError]))}`,
          );
        }
        await sleep(20);
      }
    },
    upload: (residentId, lines, over = {}) =>
      payment.upload(
        {
          regionCode: '990100',
          appId: 'test-app',
          institutionCode: 'H99010200001',
          institutionOrderNo: serial(),
          credential: { type: '02', value: residentId },
          medicalType: '11',
          lines,
          ...over,
        },
        { kind: 'channel', id: over.appId ?? 'test-app' },
      ),
    async close() {
      await platform.close();
      if (!opts.sandbox) await sandbox.stop();
    },
  };
}

let counter = 0;
/** a unique institution business serial */
export const serial = () => `T${Date.now().toString(36)}${(++counter).toString(36)}`;
