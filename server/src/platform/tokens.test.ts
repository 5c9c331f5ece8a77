import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachPlatform } from '../testing/platform.ts';

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

    test('a remembered token stops working when it expires', async () => {
      const tokens = get().ctx.tokens;
      const token = await tokens.issue(claims, 1);
      assert.equal((await tokens.verify(token)).sub, 'p-1');
      await new Promise((r) => setTimeout(r, 2100));
      await assert.rejects(tokens.verify(token), /exp/);
    });
  },
  { centers: [] },
);
