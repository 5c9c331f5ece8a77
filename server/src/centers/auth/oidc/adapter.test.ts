/**
 * The provider adapter's commit modes: page-flow state never waits for the disk, durable models wait — or, inside a
 * provider request (durable scope), the request's writes are held and go out in one statement at its end (its reads
 * see them meanwhile). Whatever the mode, the rows are written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from '../../../platform/db/index.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../platform/db/testing.ts';
import type { ChannelRegistry } from '../channel/channels.ts';
import {
  createAdapterFactory,
  type DurableScope,
  durableScope,
  flushDurable,
  heldWrites,
  requestMemo,
} from './adapter.ts';

const noChannels = { find: async () => null } as unknown as ChannelRegistry;

for (const kind of databaseKinds()) {
  describe(`auth: provider adapter commit modes [${kind}]`, () => {
    let t: TestDatabase;
    before(async () => {
      t = await createTestDatabase(kind);
    });
    after(async () => t?.close());

    it('durable writes inside a provider request mark the scope; one flush clears it; rows are there', async () => {
      const Adapter = createAdapterFactory(t, '990100', noChannels);
      const tokens = new Adapter('RefreshToken');
      const interactions = new Adapter('Interaction');
      const scope: DurableScope = { pending: false };
      await durableScope.run(scope, async () => {
        await interactions.upsert('i-1', { uid: 'u-1' }, 60);
        assert.equal(scope.pending, false, 'page-flow state needs no flush');
        await tokens.upsert('rt-1', { grantId: 'g-1' }, 60);
        await tokens.consume('rt-1');
      });
      assert.equal(scope.pending, true, 'a durable write is waiting for its flush');
      await flushDurable(t, scope);
      assert.equal(scope.pending, false);
      const found = await tokens.find('rt-1');
      assert.equal(found?.grantId, 'g-1');
      assert.ok(found?.consumed, 'consumed');
      assert.equal((await interactions.find('i-1'))?.uid, 'u-1');

      await durableScope.run(scope, () => tokens.revokeByGrantId('g-1'));
      assert.equal(scope.pending, true);
      await flushDurable(t, scope);
      assert.equal(await tokens.find('rt-1'), undefined, 'revoked');
    });

    it('inside a provider request writes are held (read-your-writes) and go out together in one statement', async () => {
      const Adapter = createAdapterFactory(t, '990100', noChannels);
      const codes = new Adapter('AuthorizationCode');
      const sessions = new Adapter('Session');
      const interactions = new Adapter('Interaction');
      const stored = async (kind: string, id: string) =>
        (
          await t.q<{
            payload: { v?: number; uid?: string };
            consumed: boolean;
          }>(sql`select payload, consumed_at is not null as consumed
            from oidc_payload where kind = ${kind} and id = ${id}`)
        )[0];
      await interactions.upsert('i-2', { uid: 'u-2' }, 60); // outside a request: written at once
      await codes.upsert('c-old', { grantId: 'g-3', v: 0 }, 60);
      const scope: DurableScope = { pending: false };
      await durableScope.run(scope, async () => {
        await codes.upsert('c-1', { grantId: 'g-3', v: 1 }, 60);
        await codes.upsert('c-1', { grantId: 'g-3', v: 2 }, 60);
        await codes.consume('c-1');
        await codes.consume('c-old');
        await sessions.upsert('s-1', { uid: 'su-1' }, 60);
        await interactions.destroy('i-2');
        assert.equal((await codes.find('c-1'))?.v, 2, 'the request reads its own last write');
        assert.ok((await codes.find('c-1'))?.consumed, 'and its consumption');
        assert.ok((await codes.find('c-old'))?.consumed, 'a held consumption of a stored row shows');
        assert.equal(await interactions.find('i-2'), undefined, 'a held deletion shows');
        assert.equal(await stored('AuthorizationCode', 'c-1'), undefined, 'nothing written before the end');
        assert.equal((await stored('Interaction', 'i-2'))?.payload.uid, 'u-2');
      });
      assert.equal(scope.pending, true, 'a durable write is held');
      await flushDurable(t, scope);
      assert.equal(scope.pending, false);
      assert.deepEqual(await stored('AuthorizationCode', 'c-1'), { payload: { grantId: 'g-3', v: 2 }, consumed: true });
      assert.equal((await stored('AuthorizationCode', 'c-old'))?.consumed, true);
      assert.equal((await stored('Session', 's-1'))?.payload.uid, 'su-1');
      assert.equal(await stored('Interaction', 'i-2'), undefined);

      // destroyed, then written again in one request: a fresh row, not consumed
      await durableScope.run(scope, async () => {
        await codes.destroy('c-1');
        assert.equal(await codes.find('c-1'), undefined);
        await codes.upsert('c-1', { grantId: 'g-3', v: 3 }, 60);
      });
      await flushDurable(t, scope);
      assert.deepEqual(await stored('AuthorizationCode', 'c-1'), {
        payload: { grantId: 'g-3', v: 3 },
        consumed: false,
      });

      // a look-up by something else than the id writes what is held first; so does a revocation by grant
      await durableScope.run(scope, async () => {
        await sessions.upsert('s-2', { uid: 'su-2' }, 60);
        assert.equal((await sessions.findByUid('su-2'))?.uid, 'su-2');
        await codes.upsert('c-2', { grantId: 'g-3' }, 60);
        await codes.revokeByGrantId('g-3');
        assert.equal(await codes.find('c-2'), undefined);
      });
      await flushDurable(t, scope);
      assert.equal(await stored('AuthorizationCode', 'c-1'), undefined, 'revoked with its grant');
      assert.equal(await stored('AuthorizationCode', 'c-2'), undefined, 'revoked with its grant');
    });

    it('a code look-up in a request reads its grant and session along; a write of the request wins', async () => {
      const Adapter = createAdapterFactory(t, '990100', noChannels);
      const codes = new Adapter('AuthorizationCode');
      const grants = new Adapter('Grant');
      const sessions = new Adapter('Session');
      await grants.upsert('g-5', { accountId: 'a-5', v: 1 }, 60);
      await sessions.upsert('s-5', { uid: 'su-5', v: 1 }, 60);
      await codes.upsert('c-5', { grantId: 'g-5', sessionUid: 'su-5' }, 60);
      const scope: DurableScope = { pending: false };
      await durableScope.run(scope, async () => {
        assert.equal((await codes.find('c-5'))?.grantId, 'g-5');
        assert.ok(scope.prefetched?.size, 'grant and session read along');
        await t.q(sql`delete from oidc_payload where kind in ('Grant', 'Session') and id in ('g-5', 's-5')`);
        assert.equal((await grants.find('g-5'))?.v, 1, 'as read with the code');
        assert.equal((await sessions.findByUid('su-5'))?.v, 1);
        await grants.upsert('g-5', { accountId: 'a-5', v: 2 }, 60);
        assert.equal((await grants.find('g-5'))?.v, 2, "the request's own write");
        assert.equal(await sessions.findByUid('su-5'), undefined, 'after a write: read again');
      });
      await flushDurable(t, scope);
      assert.equal(await codes.find('c-5').then((c) => c?.grantId), 'g-5');
      assert.equal(await codes.find('missing'), undefined);
    });

    it('heldWrites hands a write to the caller instead of writing it; requestMemo loads once per request', async () => {
      const Adapter = createAdapterFactory(t, '990100', noChannels);
      const interactions = new Adapter('Interaction');
      const statements = await heldWrites(() => interactions.upsert('i-3', { uid: 'u-3' }, 60));
      assert.equal(statements.length, 1);
      assert.equal(await interactions.find('i-3'), undefined, 'not written by the adapter');
      await t.tx(async (tx) => {
        for (const s of statements) await tx.q(sql`with w as (${s}) select 1`);
      });
      assert.equal((await interactions.find('i-3'))?.uid, 'u-3');

      let loads = 0;
      const load = async () => ++loads;
      await durableScope.run({ pending: false }, async () => {
        assert.equal(await requestMemo('k', load), 1);
        assert.equal(await requestMemo('k', load), 1);
      });
      assert.equal(await requestMemo('k', load), 2, 'outside a request: every time');
    });

    it('outside a provider request durable writes commit synchronously (no scope to mark)', async () => {
      const Adapter = createAdapterFactory(t, '990100', noChannels);
      const grants = new Adapter('Grant');
      await grants.upsert('g-2', { accountId: 'a' }, 60);
      await grants.destroy('g-2');
      const rows = await t.q(sql`select 1 from oidc_payload where kind = 'Grant' and id = 'g-2'`);
      assert.equal(rows.length, 0);
      assert.equal(durableScope.getStore(), undefined);
    });
  });
}
