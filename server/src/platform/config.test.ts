import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';

test('defaults give a runnable development configuration', () => {
  const c = loadConfig({});
  assert.equal(c.PORT, 3000);
  assert.equal(c.DATABASE_URL, undefined);
  assert.equal(c.BODY_LIMIT, 1024 * 1024);
});

test('a bad value stops start-up with a message naming the variable', () => {
  assert.throws(
    () => loadConfig({ PORT: 'eighty' }),
    (e: Error) => e instanceof ConfigError && /PORT/.test(e.message),
  );
  assert.throws(() => loadConfig({ DATABASE_URL: 'mysql://x' }), /DATABASE_URL/);
  assert.throws(() => loadConfig({ DEFAULT_REGION: '99' }), /DEFAULT_REGION/);
  assert.throws(() => loadConfig({ DEMO_SEED: 'maybe' }), /DEMO_SEED/);
});

test('production refuses the built-in development secrets', () => {
  assert.throws(() => loadConfig({ NODE_ENV: 'production' }), /DATA_KEYS/);
});
