/** Request pieces that several centers' routes share. */
import { z } from 'zod';
import { isValidResidentId } from './privacy/index.ts';

/**
 * A calendar day, YYYY-MM-DD, that exists (no 2026-02-30) and that PostgreSQL's `date` takes (it has no year 0000);
 * a shape-only pattern let such days through to the database, which refused them with a 500.
 */
export const calendarDate = z.iso
  .date('日期应为 YYYY-MM-DD 格式的有效日期')
  .refine((d) => d >= '0001-01-01', '日期超出范围');

/** An instant with its offset (ISO 8601), in the years PostgreSQL's `timestamptz` takes. */
export const instant = z.iso
  .datetime({ offset: true, message: '时间应为带时区的 ISO 8601 格式' })
  .refine((t) => !t.startsWith('0000-'), '时间超出范围');

/** A resident ID number (GB 11643, check character verified); a lower-case x is taken as the X phones often type. */
export const residentId = z.string().trim().toUpperCase().refine(isValidResidentId, '身份证号码无效');

/** page (1–10,000) and pageSize (1–100, 20 by default) of a listing. */
export const paging = {
  page: z.coerce.number().int().min(1).max(10_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(20),
};

/**
 * A signed envelope's `data`: taken as it comes (the route parses it after the signature is checked and any SM4 part
 * decrypted), and shown in the OpenAPI document with the schema the route parses it with, so an integrator reads the
 * fields at /docs.
 */
export function envelopeData(schema: z.ZodType) {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return z
    .unknown()
    .optional()
    .meta({ ...json, description: '业务数据（明文时在此；SM4 加密时为 encData 解密后的内容）' });
}
