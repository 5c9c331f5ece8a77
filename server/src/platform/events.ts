import type { Executor } from './db/index.ts';
import { type EnqueueOptions, enqueue, type JobHandler, type JobRunner } from './jobs.ts';

/**
 * Domain events between centers, carried by the durable job queue: publishing inserts one job per subscriber in the
 * caller's transaction, so an event exists iff the business write committed, and each subscriber retries on its own.
 */
export class EventBus {
  private readonly subscribers = new Map<string, string[]>();
  private readonly jobs: JobRunner;

  constructor(jobs: JobRunner) {
    this.jobs = jobs;
  }

  static queueName(event: string, subscriber: string): string {
    return `event:${event}:${subscriber}`;
  }

  /** `title`: what the subscriber does with the event, shown in the console's job queue */
  subscribe(event: string, subscriber: string, handler: JobHandler, title?: string): void {
    const list = this.subscribers.get(event) ?? [];
    if (!list.includes(subscriber)) list.push(subscriber);
    this.subscribers.set(event, list);
    this.jobs.register(EventBus.queueName(event, subscriber), handler, title);
  }

  /** Whether publishing `event` stores anything (a publisher may then skip a transaction it needs only for it). */
  hasSubscribers(event: string): boolean {
    return (this.subscribers.get(event)?.length ?? 0) > 0;
  }

  /** `dedupeKey` makes a re-published event (retries, recovery) reach each subscriber once. */
  async publish(ex: Executor, event: string, payload: unknown, opts: EnqueueOptions = {}): Promise<void> {
    for (const subscriber of this.subscribers.get(event) ?? []) {
      await enqueue(ex, EventBus.queueName(event, subscriber), { event, ...(payload as object) }, opts);
    }
  }
}
