/**
 * The provider adapter's commit modes: page-flow state never waits for the disk, durable models wait — or, inside a
 * provider request (durable scope), defer the wait to one flush at its end. Whatever the mode, the rows are written.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from '../../../platform/db/index.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from '../../../platform/db/testing.ts';
import type { ChannelRegistry } from '../channel/channels.ts';
import { createAdapterFactory, type DurableScope, durableScope, flushDurable } from './adapter.ts';

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
