import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Batcher } from './batch.ts';
import { Metrics } from './metrics.ts';

const tick = () => new Promise((r) => setImmediate(r));

describe('Batcher', () => {
  it('answers every key with its own value, in any interleaving, and never runs more than maxInFlight batches', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer(), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 3 }),
        async (keys, maxBatch, maxInFlight) => {
          let running = 0;
          let peak = 0;
          const sizes: number[] = [];
          const b = new Batcher<number, string>(
            async (ks) => {
              running++;
              peak = Math.max(peak, running);
              sizes.push(ks.length);
              await tick();
              running--;
              return ks.map((k) => `v${k}`);
            },
            { maxBatch, maxInFlight },
          );
          const answers = await Promise.all(keys.map((k) => b.load(k)));
          assert.deepEqual(
            answers,
            keys.map((k) => `v${k}`),
          );
          assert.ok(peak <= maxInFlight);
          assert.ok(sizes.every((n) => n <= maxBatch));
          assert.equal(
            sizes.reduce((a, n) => a + n, 0),
            keys.length,
          );
        },
      ),
      { numRuns: 50 },
    );
  });

  it('sends a lone key at once, and coalesces what arrives while batches are out', async () => {
    const sizes: number[] = [];
    const b = new Batcher<number, number>(async (ks) => {
      sizes.push(ks.length);
      await tick();
      return ks;
    });
    await b.load(1);
    await Promise.all(Array.from({ length: 20 }, (_, i) => b.load(i)));
    assert.deepEqual(sizes, [1, 1, 1, 18]);
  });

  it('fails every key of a failed batch, and keeps serving afterwards', async () => {
    let fail = true;
    const b = new Batcher<number, number>(async (ks) => {
      await tick();
      if (fail) throw new Error('db down');
      return ks;
    });
    const results = await Promise.allSettled([b.load(1), b.load(2), b.load(3)]);
    assert.ok(results.every((r) => r.status === 'rejected'));
    fail = false;
    assert.equal(await b.load(4), 4);
  });

  it('a named batcher shows on /metrics: statements, the requests they carried, requests waiting', async () => {
    const metrics = new Metrics();
    const b = new Batcher<number, number>(
      async (ks) => {
        await tick();
        return ks;
      },
      { name: 'demo_lookup', metrics },
    );
    await b.load(1);
    const loads = Array.from({ length: 20 }, (_, i) => b.load(i));
    const during = await metrics.render();
    assert.match(during, /^db_batch_queued\{batch="demo_lookup"\} 18$/m, 'two went out, 18 wait');
    await Promise.all(loads);
    const text = await metrics.render();
    assert.match(text, /^# TYPE db_batch_statements_total counter$/m);
    assert.match(text, /^db_batch_statements_total\{batch="demo_lookup"\} 4$/m);
    assert.match(text, /^db_batch_requests_total\{batch="demo_lookup"\} 21$/m);
    assert.match(text, /^db_batch_queued\{batch="demo_lookup"\} 0$/m);
  });

  it('refuses a batch answer of the wrong length', async () => {
    const b = new Batcher<number, number>(async () => []);
    await assert.rejects(b.load(1), /answered 0 of 1/);
  });
});
