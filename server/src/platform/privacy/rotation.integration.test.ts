import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachPlatform } from '../../testing/platform.ts';
import { sql } from '../db/index.ts';
import { enqueue } from '../jobs.ts';
import { createFieldCipher, keyRotationStatus, parseKeyring } from './index.ts';

const OLD = `k1:${'0a'.repeat(32)}`;
const NEW = `${OLD},k2:${'0b'.repeat(32)}`;

forEachPlatform(
  'personal-data key rotation',
  (get) => {
    test('the re-encrypt job moves every value to the newest key and reports progress', async () => {
      const { ctx } = get();
      const old = createFieldCipher(parseKeyring(OLD));
      await ctx.db.exec(
        `create table t_person (region_code char(6), id int, mobile_enc text, primary key (region_code, id))`,
      );
      for (let i = 0; i < 30; i++) {
        await ctx.db.q(
          sql`insert into t_person values ('990100', ${i}, ${old.encrypt(`1380013${String(i).padStart(4, '0')}`)})`,
        );
      }
      ctx.privacy.registerEncryptedColumn({ table: 't_person', column: 'mobile_enc', key: ['region_code', 'id'] });
      assert.deepEqual(await keyRotationStatus(ctx.db, ctx.privacy), [
        { table: 't_person', column: 'mobile_enc', total: 30, underOldKeys: 30 },
      ]);
      await enqueue(ctx.db, 'privacy.reencrypt', {});
      await ctx.jobs.drain();
      const [status] = await keyRotationStatus(ctx.db, ctx.privacy);
      assert.equal(status.underOldKeys, 0);
      const rows = await ctx.db.q<{ id: number; mobile_enc: string }>(
        sql`select id, mobile_enc from t_person order by id`,
      );
      for (const r of rows) {
        assert.equal(ctx.privacy.cipher.keyIdOf(r.mobile_enc), 'k2');
        assert.equal(ctx.privacy.cipher.decrypt(r.mobile_enc), `1380013${String(r.id).padStart(4, '0')}`);
      }
    });
  },
  { env: { DATA_KEYS: NEW }, centers: [] },
);
