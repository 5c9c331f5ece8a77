import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { centers } from './centers/index.ts';
import { forEachPlatform } from './testing/platform.ts';

forEachPlatform('OpenAPI of the whole platform', (get) => {
  test('/openapi.json is valid OpenAPI 3.1 with one tag per center and a summary on every operation', async () => {
    const doc = (await get().app.inject('/openapi.json')).json();
    const validator = new Validator();
    const result = await validator.validate(doc);
    assert.equal(result.valid, true, JSON.stringify(result.errors, null, 2)?.slice(0, 2000));
    assert.equal(validator.version, '3.1');
    const tags = new Set(doc.tags.map((t: { name: string }) => t.name));
    for (const c of centers) assert.ok(tags.has(c.name), `no tag for center ${c.name}`);
    const untagged: string[] = [];
    for (const [path, ops] of Object.entries<Record<string, { tags?: string[]; summary?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op.tags?.length || !op.summary) untagged.push(`${method.toUpperCase()} ${path}`);
      }
    }
    assert.deepEqual(untagged, [], 'operations without a tag or summary');
  });

  test('the docs page is served', async () => {
    const res = await get().app.inject('/docs/');
    assert.equal(res.statusCode, 200);
    assert.match(res.body, /swagger/i);
  });
});
