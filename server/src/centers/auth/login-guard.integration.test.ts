/** The failure count forgets a quiet day; the hourly purge drops forgotten failures and history past its retention. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { service } from '../../platform/context.ts';
import { sql } from '../../platform/db/index.ts';
import { forEachPlatform } from '../../testing/platform.ts';
import { authCenter } from './index.ts';
import { FAILURES_FORGOTTEN_AFTER_HOURS, HARD_LOCK_AFTER } from './login.ts';

const lc = { regionCode: '990100', ip: '10.7.0.1' };

forEachPlatform(
  'auth: login guard over time',
  (get) => {
    const guard = () => service(get().ctx, 'auth').guard;
    /** Moves a guard row's last failure `hours` into the past, as if that much time had gone by. */
    const age = (key: string, hours: number) =>
      get().ctx.db.q(sql`update auth_login_guard set last_failure_at = now() - make_interval(hours => ${hours})
        where region_code = '990100' and key = ${key}`);

    test('a mistake a day apart starts the count again; within the day they add up to the lock', async () => {
      const monthly = `acct:person:${randomUUID()}`;
      for (let month = 0; month < HARD_LOCK_AFTER + 2; month++) {
        const state = await guard().fail(lc, monthly);
        assert.deepEqual(state, { failures: 1, hardLocked: false }, `month ${month}`);
        await age(monthly, FAILURES_FORGOTTEN_AFTER_HOURS * 30);
      }
      const burst = `acct:person:${randomUUID()}`;
      let last = { failures: 0, hardLocked: false };
      for (let i = 0; i < HARD_LOCK_AFTER; i++) {
        last = await guard().fail(lc, burst);
        await age(burst, 1);
      }
      assert.deepEqual(last, { failures: HARD_LOCK_AFTER, hardLocked: true });
      await age(burst, FAILURES_FORGOTTEN_AFTER_HOURS * 2);
      const after = await guard().fail(lc, burst);
      assert.equal(after.hardLocked, true, 'a hard lock waits for staff, however long ago');
      assert.ok(after.failures > HARD_LOCK_AFTER);
    });

    test('the purge drops forgotten failures and old history, keeps locks, delays and recent history', async () => {
      const { db } = get().ctx;
      const keys = { forgotten: randomUUID(), recent: randomUUID(), locked: randomUUID(), delayed: randomUUID() };
      for (const [name, id] of Object.entries(keys)) {
        await db.q(sql`insert into auth_login_guard (region_code, key, failures, hard_locked, locked_until, last_failure_at)
          values ('990100', ${`acct:person:${id}`}, ${name === 'locked' ? HARD_LOCK_AFTER : 6}, ${name === 'locked'},
            ${name === 'delayed' ? new Date(Date.now() + 600_000).toISOString() : null},
            now() - make_interval(hours => ${name === 'recent' ? 1 : 48}))`);
      }
      const account = randomUUID();
      for (const days of [1, 364, 366, 400])
        await db.q(sql`insert into auth_login_event (region_code, account_kind, account_id, method, result, at)
          values ('990100', 'person', ${account}, 'pwd', 'success', now() - make_interval(days => ${days}))`);

      await service(get().ctx, 'auth').purgeExpired();

      const ours = new Set<string>(Object.values(keys));
      const kept = (await db.q<{ key: string }>(sql`select key from auth_login_guard`))
        .map((g) => g.key.slice('acct:person:'.length))
        .filter((id) => ours.has(id));
      assert.deepEqual(kept.sort(), [keys.recent, keys.locked, keys.delayed].sort());
      const history = await service(get().ctx, 'auth').loginHistory('990100', account);
      assert.equal(history.length, 2, 'a year (LOGIN_HISTORY_DAYS) is kept');
    });
  },
  { centers: [authCenter] },
);
