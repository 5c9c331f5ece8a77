import { z } from 'zod';
import { AppError } from '../../platform/errors.ts';

const fen = z.number().int().nonnegative();

/**
 * Payload of `payment.bill_ready`, `payment.completed` and `payment.refunded`: the order, plus dueAt (bill_ready) or
 * the refund and its legs (refunded; a whole refund of an event queued long ago may omit them). The contract in
 * docs/CONVENTIONS.md; consumers parse with it.
 */
export const paymentEventSchema = z.object({
  regionCode: z.string().regex(/^\d{6}$/),
  orderId: z.string().min(1).max(64),
  /** the person's hall account, when they have one (a bill may be uploaded for anyone insured) */
  personId: z.string().min(1).max(64).optional(),
  /** the insured person in the core zone (always sent; events queued before it was added lack it) */
  personNo: z.string().min(1).max(64).optional(),
  /** blind index of the resident ID: finds the person's records once they open an account (as personNo) */
  residentIndex: z.string().min(1).max(128).optional(),
  institutionCode: z.string().min(1).max(32),
  /** the registry's name at upload, when known */
  institutionName: z.string().max(100).optional(),
  total: fen,
  fundPayment: fen,
  accountPayment: fen,
  cashPayment: fen,
  lines: z
    .array(
      z.object({
        code: z.string().min(1).max(40),
        name: z.string().min(1).max(100),
        itemClass: z.enum(['A', 'B', 'C']),
        quantity: z.number().positive(),
        amount: z.number().int(),
      }),
    )
    .max(500),
  settledAt: z.string().min(1),
  dueAt: z.string().optional(),
  refundId: z.string().min(1).max(64).optional(),
  refundKind: z.string().max(32).optional(),
  fundRefund: fen.optional(),
  accountRefund: fen.optional(),
  cashRefund: fen.optional(),
  refundedAt: z.string().optional(),
});
export type PaymentEvent = z.infer<typeof paymentEventSchema>;

/** A queued event's payload, checked: a malformed one fails its job (and ends as a dead letter an operator sees). */
export function parsePaymentEvent(payload: unknown): PaymentEvent {
  const parsed = paymentEventSchema.safeParse(payload);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new AppError(422, 'PAYMENT_EVENT_INVALID', `支付事件数据不完整：${fields}`);
  }
  return parsed.data;
}
