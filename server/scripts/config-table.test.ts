import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configSchema } from '../src/platform/config.ts';
import { configTable } from './config-table.ts';

test('the README documents every environment variable, as generated from the schema', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const missing = Object.keys(configSchema.shape).filter((name) => !readme.includes(`\`${name}\``));
  assert.deepEqual(missing, [], 'run: node server/scripts/config-table.ts --write');
  assert.ok(
    readme.includes(configTable()),
    'README config table is stale: node server/scripts/config-table.ts --write',
  );
});
