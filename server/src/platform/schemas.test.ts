import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { calendarDate, instant, paging } from './schemas.ts';

test('calendarDate takes days that exist and PostgreSQL can store', () => {
  for (const ok of ['2026-11-26', '2024-02-29', '0001-01-01', '9999-12-31'])
    assert.ok(calendarDate.safeParse(ok).success, ok);
  for (const bad of ['2026-02-30', '2025-02-29', '2026-13-01', '2026-00-10', '0000-01-01', '2026-1-1', '20261126', ''])
    assert.ok(!calendarDate.safeParse(bad).success, bad);
});

test('instant takes ISO 8601 with an offset in the years PostgreSQL can store', () => {
  for (const ok of ['2026-11-26T08:00:00Z', '2026-11-26T16:00:00.123+08:00', '9999-12-31T23:59:59Z'])
    assert.ok(instant.safeParse(ok).success, ok);
  for (const bad of ['0000-01-01T00:00:00Z', '2026-11-26T08:00:00', '2026-02-30T00:00:00Z', 'now'])
    assert.ok(!instant.safeParse(bad).success, bad);
});

test('paging: from the query string, bounded, 20 a page by default', () => {
  const q = z.strictObject(paging);
  assert.deepEqual(q.parse({}), { page: 1, pageSize: 20 });
  assert.deepEqual(q.parse({ page: '3', pageSize: '50' }), { page: 3, pageSize: 50 });
  for (const bad of [{ page: '0' }, { page: '10001' }, { pageSize: '101' }, { page: '1.5' }, { page: 'x' }])
    assert.ok(!q.safeParse(bad).success, JSON.stringify(bad));
});
