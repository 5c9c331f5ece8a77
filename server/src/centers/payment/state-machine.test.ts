import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AppError } from '../../platform/errors.ts';
import {
  allowedTargets,
  assertTransition,
  canTransition,
  FINAL_STATUSES,
  ORDER_STATUSES,
  type OrderStatus,
} from './state-machine.ts';

test('the happy path and the saga paths are allowed', () => {
  const paths: OrderStatus[][] = [
    [
      'created',
      'pre_settled',
      'awaiting_payment',
      'cash_paid',
      'insurance_settled',
      'completed',
      'refunding',
      'refunded',
    ],
    ['created', 'pre_settled', 'awaiting_payment', 'cash_paid', 'refunding', 'failed'],
    ['created', 'pre_settled', 'pre_settled', 'cancelled'],
    ['created', 'pre_settled', 'awaiting_payment', 'failed'],
    [
      'created',
      'pre_settled',
      'cash_paid',
      'insurance_settled',
      'completed',
      'refunding',
      'partially_refunded',
      'refunding',
      'refunded',
    ],
  ];
  for (const path of paths) for (let i = 1; i < path.length; i++) assertTransition(path[i - 1], path[i]);
});

test('illegal transitions are refused with PAYMENT_ILLEGAL_TRANSITION and a Chinese title', () => {
  for (const [from, to] of [
    ['completed', 'cash_paid'],
    ['refunded', 'refunding'],
    ['cancelled', 'pre_settled'],
    ['awaiting_payment', 'completed'],
    ['pre_settled', 'refunded'],
    ['failed', 'completed'],
  ] as Array<[OrderStatus, OrderStatus]>) {
    assert.throws(
      () => assertTransition(from, to),
      (e: AppError) => e.code === 'PAYMENT_ILLEGAL_TRANSITION' && e.status === 409 && /订单/.test(e.title),
    );
  }
});

test('property: money is only settled after the cash leg, and terminal states are terminal', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...ORDER_STATUSES), { maxLength: 30 }), (wanted) => {
      let state: OrderStatus = 'created';
      const seen: OrderStatus[] = [state];
      for (const next of wanted) {
        if (canTransition(state, next)) {
          state = next;
          seen.push(state);
        } else {
          assert.throws(() => assertTransition(state, next));
        }
      }
      // insurance_settled is reached only through cash_paid
      const i = seen.indexOf('insurance_settled');
      if (i >= 0) assert.equal(seen[i - 1], 'cash_paid');
      for (const s of ['refunded', 'cancelled', 'failed'] as OrderStatus[]) assert.deepEqual(allowedTargets(s), []);
    }),
  );
  assert.ok(FINAL_STATUSES.includes('completed'));
});
