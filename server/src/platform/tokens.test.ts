import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachPlatform } from '../testing/platform.ts';
import { sql } from './db/index.ts';
import { AccessTokens, KeyStore } from './tokens.ts';

const claims = { sub: 'p-1', kind: 'person', region: '990100', acr: 'pwd', amr: ['pwd'] };

forEachPlatform(
  'access tokens',
  (get) => {
    test('a token verifies again and again; a tampered copy never does, even once the original is remembered', async () => {
      const tokens = get().ctx.tokens;
      const token = await tokens.issue(claims);
      for (let i = 0; i < 3; i++) assert.equal((await tokens.verify(token)).sub, 'p-1');
      const [h, p, sig] = token.split('.');
      const flipped = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
      await assert.rejects(tokens.verify(`${h}.${p}.${flipped}`));
      const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'p-2' }));
      await assert.rejects(tokens.verify(`${h}.${other.toString('base64url')}.${sig}`));
    });

    test('the first use makes one key however many callers race; a key rotated elsewhere verifies at once', async () => {
      const { db, privacy, publicUrl } = get().ctx;
      await db.q(sql`delete from signing_key`);
      const here = new KeyStore(db, privacy.cipher);
      const there = new KeyStore(db, privacy.cipher); // another process
      const all = await Promise.all([...Array(8)].flatMap(() => [here.keys(), there.keys()]));
      const [{ n }] = await db.q<{ n: number }>(sql`select count(*)::int as n from signing_key`);
      assert.equal(n, 1, 'one key');
      assert.equal(new Set(all.map((k) => k[0].kid)).size, 1, 'everyone sees it');
      await there.rotate();
      const token = await new AccessTokens(there, publicUrl).issue(claims);
      assert.equal((await new AccessTokens(here, publicUrl).verify(token)).sub, 'p-1', 'no 10 s wait for the new key');
    });

    test('a remembered token stops working when it expires', async () => {
      const tokens = get().ctx.tokens;
      // 2 s, not 1: exp is whole seconds, so a 1 s token issued late in a second may be expired before its first check
      const token = await tokens.issue(claims, 2);
      assert.equal((await tokens.verify(token)).sub, 'p-1');
      await new Promise((r) => setTimeout(r, 3100));
      await assert.rejects(tokens.verify(token), /exp/);
    });
  },
  { centers: [] },
);
