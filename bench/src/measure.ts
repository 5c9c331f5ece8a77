import type { Benchmark, Result } from './types.ts';

const percentile = (sorted: number[], p: number) =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** Runs `run(1)` from `concurrency` callers for about `seconds` after a short warm-up; per-op latencies give p50/p99. */
export async function measure<C>(b: Benchmark<C>, ctx: C, seconds: number): Promise<Omit<Result, 'name'>> {
  const warmUntil = performance.now() + Math.min(1000, seconds * 200);
  while (performance.now() < warmUntil) await b.run(1, ctx);
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      await b.run(1, ctx);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: b.concurrency ?? 1 }, worker));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, c) => a - c);
  return {
    ops: latencies.length,
    seconds: elapsed,
    opsPerSec: latencies.length / elapsed,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}
