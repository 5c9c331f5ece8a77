/**
 * Coalesces concurrent requests for one kind of statement into one round trip (as DataLoader and group commit do).
 * While `maxInFlight` batches are out, new keys queue and leave together in the next batch. Under light load every
 * key leaves at once, alone (no added latency); under load the round trips per request fall with the queue's length.
 * `run` answers one value per key, in order; if it fails, every key of the batch gets its error.
 */
export class Batcher<K, V> {
  private queue: Array<{ key: K; resolve: (value: V) => void; reject: (error: unknown) => void }> = [];
  private inFlight = 0;
  private readonly run: (keys: K[]) => Promise<V[]>;
  private readonly limits: { maxBatch: number; maxInFlight: number };

  constructor(run: (keys: K[]) => Promise<V[]>, limits = { maxBatch: 64, maxInFlight: 2 }) {
    this.run = run;
    this.limits = limits;
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
