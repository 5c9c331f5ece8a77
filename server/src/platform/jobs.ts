import { type Database, type Executor, notify, sql } from './db/index.ts';
import { businessDate } from './time.ts';

export interface JobRow {
  id: number;
  queue: string;
  region_code: string | null;
  payload: any;
  attempts: number;
  max_attempts: number;
}

export interface EnqueueOptions {
  regionCode?: string;
  runAt?: Date;
  maxAttempts?: number;
  /** At most one queued/running/done job per (queue, dedupeKey). */
  dedupeKey?: string;
}

export type JobHandler = (job: JobRow, db: Database) => Promise<void>;

const CHANNEL = 'yibao_jobs';

/** Enqueue inside the caller's transaction, so the job exists iff the business write committed. */
export async function enqueue(ex: Executor, queue: string, payload: unknown, opts: EnqueueOptions = {}): Promise<void> {
  await ex.q(sql`insert into job(queue, region_code, payload, run_at, max_attempts, dedupe_key)
    values (${queue}, ${opts.regionCode ?? null}, ${JSON.stringify(payload ?? {})}::jsonb,
      ${(opts.runAt ?? new Date()).toISOString()}, ${opts.maxAttempts ?? 5}, ${opts.dedupeKey ?? null})
    on conflict do nothing`);
  await notify(ex, CHANNEL, queue);
}

/** A daily job (no payload) at `runAt`: once per China-time day, however many processes start or restart. */
export function enqueueDaily(ex: Executor, queue: string, runAt: Date): Promise<void> {
  return enqueue(ex, queue, {}, { runAt, dedupeKey: `${queue}:${businessDate(runAt)}` });
}

/** Exponential backoff with a cap: 2s, 4s, 8s … 10 min. */
export function backoffMs(attempt: number): number {
  return Math.min(600_000, 1000 * 2 ** Math.max(1, attempt));
}

export interface QueueStats {
  queue: string;
  /** queued (due now), scheduled (waiting for its time: a backoff, a daily run, a quiet period), running, done, dead */
  state: string;
  count: number;
  /** queued only: how long the longest-waiting due job has waited, in seconds (workers behind or absent) */
  waitSeconds: number;
}

export interface JobRunnerOptions {
  pollMs: number;
  lockMs?: number;
  batch?: number;
  /** a job failed (a warning) */
  log?: (msg: string, o?: object) => void;
  /** a job waits for something on its way (`NotYet`; information) */
  note?: (msg: string, o?: object) => void;
}

/**
 * Thrown by a handler whose job cannot run yet because what it needs is on its way (an event that overtook the one
 * it depends on). The job waits its backoff and still dead-letters after its attempts, like a failure, but it is
 * neither counted nor logged as one: whoever reads the log at 3 a.m. finds a note, not a stack trace.
 */
export class NotYet extends Error {
  override readonly name = 'NotYet';
}

export class JobRunner {
  private readonly handlers = new Map<string, JobHandler>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private active = 0;
  private wake?: () => void;
  private unlisten?: () => Promise<void>;
  readonly failures = new Map<string, number>();
  readonly completed = new Map<string, number>();
  /** queue → title, for the queues registered with one */
  readonly titles = new Map<string, string>();

  private readonly db: Database;
  private readonly opts: JobRunnerOptions;

  constructor(db: Database, opts: JobRunnerOptions) {
    this.db = db;
    this.opts = opts;
  }

  /** `title`: what the queue does, in words the console shows beside its name */
  register(queue: string, handler: JobHandler, title?: string): void {
    this.handlers.set(queue, handler);
    if (title) this.titles.set(queue, title);
  }

  /** A job that runs once a day: `run`, then tomorrow's run is queued; the first one `firstInMs` from now. */
  async registerDaily(queue: string, title: string, run: () => Promise<unknown>, firstInMs: number): Promise<void> {
    this.register(
      queue,
      async () => {
        await run();
        await enqueueDaily(this.db, queue, new Date(Date.now() + 86_400_000));
      },
      title,
    );
    await enqueueDaily(this.db, queue, new Date(Date.now() + firstInMs));
  }

  get queues(): string[] {
    return [...this.handlers.keys()];
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.unlisten = await this.db.listen(CHANNEL, () => this.wake?.()).catch(() => undefined);
    void this.loop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    clearTimeout(this.timer);
    await this.unlisten?.();
    while (this.active > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let worked = 0;
      try {
        worked = await this.runOnce();
      } catch (err) {
        this.opts.log?.('job loop error', { err });
      }
      if (worked === 0 && this.running) await this.sleep(this.opts.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.timer);
        resolve();
      };
      this.timer = setTimeout(resolve, ms);
    });
  }

  /** Claims and runs ready jobs once; returns how many ran. Tests call this directly. */
  async runOnce(): Promise<number> {
    const queues = this.queues;
    if (queues.length === 0) return 0;
    const jobs = await this.claim(queues);
    this.active += jobs.length;
    try {
      await Promise.all(jobs.map((job) => this.execute(job)));
    } finally {
      this.active -= jobs.length;
    }
    return jobs.length;
  }

  /** Runs until no job is ready (or the limit is hit). */
  async drain(limit = 1000): Promise<number> {
    let total = 0;
    for (let n = await this.runOnce(); n > 0 && total < limit; n = await this.runOnce()) total += n;
    return total;
  }

  private async claim(queues: string[]): Promise<JobRow[]> {
    const lockMs = this.opts.lockMs ?? 60_000;
    const batch = this.opts.batch ?? 10;
    // Stale running jobs (a crashed worker) become claimable again once their lock expires.
    return this.db.q<JobRow>(sql`update job set state = 'running', attempts = attempts + 1,
        locked_until = now() + make_interval(secs => ${lockMs / 1000})
      where id in (
        select id from job
        where queue in (${sql.join(
          queues.map((q) => sql`${q}`),
          sql`, `,
        )})
          and ((state = 'queued' and run_at <= now()) or (state = 'running' and locked_until < now()))
        order by run_at, id
        limit ${batch}
        for update skip locked)
      returning id, queue, region_code, payload, attempts, max_attempts`);
  }

  private async execute(job: JobRow): Promise<void> {
    const handler = this.handlers.get(job.queue)!;
    try {
      await handler(job, this.db);
      await this.db.q(
        sql`update job set state = 'done', finished_at = now(), locked_until = null where id = ${job.id}`,
      );
      this.completed.set(job.queue, (this.completed.get(job.queue) ?? 0) + 1);
    } catch (err) {
      const dead = job.attempts >= job.max_attempts;
      const waiting = err instanceof NotYet && !dead;
      const message = waiting ? `等待：${err.message}` : String((err as Error)?.stack ?? err).slice(0, 2000);
      if (waiting) {
        this.opts.note?.('job waits', { jobId: job.id, queue: job.queue, attempt: job.attempts, reason: err.message });
      } else {
        this.failures.set(job.queue, (this.failures.get(job.queue) ?? 0) + 1);
        this.opts.log?.('job failed', { jobId: job.id, queue: job.queue, attempt: job.attempts, dead, err: message });
      }
      await this.db.q(sql`update job set state = ${dead ? 'dead' : 'queued'}, last_error = ${message},
          locked_until = null, run_at = now() + make_interval(secs => ${backoffMs(job.attempts) / 1000}),
          finished_at = ${dead ? sql`now()` : sql`null`}
        where id = ${job.id}`);
    }
  }

  /** Counts per queue and state: of one region and the platform-wide jobs (no region), or of all when no region is given. */
  async stats(regionCode?: string): Promise<QueueStats[]> {
    const scope = regionCode === undefined ? sql`` : sql`where region_code = ${regionCode} or region_code is null`;
    return this.db.q<QueueStats>(sql`select queue,
        case when state = 'queued' and run_at > now() then 'scheduled' else state end as state, count(*)::int as count,
        coalesce(floor(extract(epoch from now() - min(run_at) filter (where state = 'queued' and run_at <= now()))), 0)::int
          as "waitSeconds"
      from job ${scope} group by 1, 2 order by 1, 2`);
  }
}

/** Requeues a dead job of `regionCode` (or a platform-wide one). */
export async function retryDeadJob(ex: Executor, id: number, regionCode: string): Promise<boolean> {
  const rows = await ex.q(sql`update job set state = 'queued', attempts = 0, run_at = now(), last_error = null
    where id = ${id} and state = 'dead' and (region_code = ${regionCode} or region_code is null) returning id`);
  return rows.length === 1;
}
