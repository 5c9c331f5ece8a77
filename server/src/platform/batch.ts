/**
 * Coalesces concurrent requests for one kind of statement into one round trip (as DataLoader and group commit do).
 * While `maxInFlight` batches are out, new keys queue and leave together in the next batch. Under light load every
 * key leaves at once, alone (no added latency); under load the round trips per request fall with the queue's length.
 * `run` answers one value per key, in order; if it fails, every key of the batch gets its error.
 */
/** A batcher's counts: statements sent, the requests they carried, requests waiting now. */
export interface BatchStats {
  batches: number;
  keys: number;
  queued: number;
}

/** Where a named batcher reports its statistics (the platform's /metrics). */
export interface BatchMetrics {
  registerBatcher(name: string, read: () => BatchStats): void;
}

export class Batcher<K, V> {
  private queue: Array<{ key: K; resolve: (value: V) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;
  private readonly run: (keys: K[]) => Promise<V[]>;
  private readonly limits: { maxBatch: number; maxInFlight: number };
  /** batches sent and the keys they carried (their ratio is the mean batch size) */
  readonly stats = { batches: 0, keys: 0 };

  constructor(
    run: (keys: K[]) => Promise<V[]>,
    opts: { maxBatch?: number; maxInFlight?: number; name?: string; metrics?: BatchMetrics } = {},
  ) {
    this.run = run;
    this.limits = { maxBatch: opts.maxBatch ?? 64, maxInFlight: opts.maxInFlight ?? 2 };
    if (opts.name && opts.metrics) {
      opts.metrics.registerBatcher(opts.name, () => ({ ...this.stats, queued: this.queue.length }));
    }
  }

  load(key: K): Promise<V> {
    return new Promise<V>((resolve, reject) => {
      this.queue.push({ key, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      this.inFlight++;
      void this.dispatch(this.queue.splice(0, this.limits.maxBatch));
    }
  }

  private async dispatch(batch: Batcher<K, V>['queue']): Promise<void> {
    this.stats.batches++;
    this.stats.keys += batch.length;
    let outcome: { values: V[] } | { error: unknown };
    try {
      const values = await this.run(batch.map((b) => b.key));
      if (values.length !== batch.length) throw new Error(`batch answered ${values.length} of ${batch.length} keys`);
      outcome = { values };
    } catch (error) {
      outcome = { error };
    }
    this.inFlight--; // before the waiters resume, so that what they load next may leave at once
    batch.forEach((b, i) => {
      if ('values' in outcome) b.resolve(outcome.values[i]);
      else b.reject(outcome.error);
    });
    this.pump();
  }
}
