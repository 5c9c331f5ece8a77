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
  const own = {
    NODE_ENV: 'production',
    DATA_KEYS: `k9:${'ab'.repeat(32)}`,
    BLIND_INDEX_KEY: 'cd'.repeat(32),
    SUPERADMIN_PASSWORD: 'Prod@secret-2026',
  };
  assert.equal(loadConfig(own).NODE_ENV, 'production');
  // a remote core zone needs its own call secret
  assert.throws(() => loadConfig({ ...own, CORE_ZONE_URL: 'http://10.0.0.5:3100' }), /CORE_ZONE_SECRET/);
  const remote = { ...own, CORE_ZONE_URL: 'http://10.0.0.5:3100', CORE_ZONE_SECRET: 'prod-core-zone-secret-2026' };
  assert.equal(loadConfig(remote).CORE_ZONE_SECRET, 'prod-core-zone-secret-2026');
});
