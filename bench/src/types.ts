/** A benchmark as registered in bench/src/benchmarks/*.bench.ts. */
export interface Benchmark<C = any> {
  name: string;
  unit: 'ops';
  /** Builds what the run needs (a platform, data); not timed. */
  setup?: () => Promise<C>;
  /** Performs n operations. The harness calls it with n = 1 per timed operation. */
  run: (n: number, ctx: C) => Promise<void>;
  teardown?: (ctx: C) => Promise<void>;
  /** The cost floor measured in the same run, e.g. raw Argon2 verify/s. */
  floor?: { name: string; opsPerSec: (ctx: C) => Promise<number> };
  goalRatio?: number;
  /** Concurrent callers of run(1) (for I/O-bound benchmarks). Default 1. */
  concurrency?: number;
  /** Extra facts to print and store (e.g. payload length, QR version). */
  facts?: (ctx: C) => Promise<Record<string, string | number>>;
}

export interface Result {
  name: string;
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  floorName?: string;
  floorOpsPerSec?: number;
  /** The floor before and after the benchmark (floorOpsPerSec is their mean). */
  floorReadings?: number[];
  ratio?: number;
  goalRatio?: number;
  met?: boolean;
  facts?: Record<string, string | number>;
  error?: string;
}
