import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { type RefresherState, startEvoucherRefresher } from './refresher.ts';

test('the refresher fetches a new code shortly before expiry and counts down', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
  try {
    let fetched = 0;
    const states: RefresherState[] = [];
    const r = startEvoucherRefresher({
      fetchCode: async () => {
        fetched++;
        return { token: `T${fetched}`, expiresAt: new Date(Date.now() + 60_000).toISOString(), ttlSeconds: 60 };
      },
      onChange: (s) => states.push(s),
      leadSeconds: 5,
    });
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(fetched, 1);
    for (let i = 0; i < 54; i++) {
      mock.timers.tick(1000);
      await Promise.resolve();
    }
    assert.equal(fetched, 1, 'no refresh while more than 5 s are left');
    assert.equal(states.at(-1)?.secondsLeft, 6);
    mock.timers.tick(1000);
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(fetched, 2);
    assert.equal(states.at(-1)?.code?.token, 'T2');
    r.stop();
    mock.timers.tick(120_000);
    assert.equal(fetched, 2, 'stopped');
  } finally {
    mock.timers.reset();
  }
});

test('a failed fetch is reported and retried on the next tick', async () => {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 });
  try {
    let calls = 0;
    const errors: unknown[] = [];
    const r = startEvoucherRefresher({
      fetchCode: async () => {
        calls++;
        if (calls === 1) throw new Error('offline');
        return { token: 'OK', expiresAt: new Date(Date.now() + 60_000).toISOString(), ttlSeconds: 60 };
      },
      onChange: (s) => {
        if (s.error) errors.push(s.error);
      },
    });
    for (let i = 0; i < 3; i++) await Promise.resolve();
    assert.equal(errors.length, 1);
    mock.timers.tick(1000);
    for (let i = 0; i < 3; i++) await Promise.resolve();
    assert.equal(calls, 2);
    r.stop();
  } finally {
    mock.timers.reset();
  }
});
