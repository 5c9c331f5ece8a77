/** The job queue as `/api/platform/jobs` reports it, and the figures an operator reads from it. */
export interface JobStat {
  queue: string;
  /** queued: due now; scheduled: waiting for its time (backoff, daily run, quiet hours) — not a backlog */
  state: string;
  count: number;
  /** queued only: how long the oldest due job has waited */
  waitSeconds: number;
}

export interface JobsView {
  stats: JobStat[];
  /** queue → what it does */
  titles: Record<string, string>;
  dead: Array<{ id: number; queue: string; attempts: number; last_error: string; finished_at: string }>;
}

/** Due jobs that waited longer than this mean the workers are behind (or none run). */
export const BACKLOG_SECONDS = 60;

export const countOf = (stats: JobStat[], state: string) =>
  stats.filter((s) => s.state === state).reduce((n, s) => n + s.count, 0);

export const longestWait = (stats: JobStat[]) =>
  stats.filter((s) => s.state === 'queued').reduce((m, s) => Math.max(m, s.waitSeconds), 0);

export function waitText(seconds: number): string {
  if (seconds < 60) return `${seconds} 秒`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} 分钟`;
  return `${Math.floor(seconds / 3600)} 小时 ${Math.floor((seconds % 3600) / 60)} 分`;
}

const STATES = ['queued', 'scheduled', 'running', 'done', 'dead'] as const;
type State = (typeof STATES)[number];
const isState = (s: string): s is State => (STATES as readonly string[]).includes(s);

export type QueueRow = { queue: string; waitSeconds: number } & Record<State, number>;

/** One row per queue, its states side by side; queues with work waiting or failed first. */
export function queueRows(stats: JobStat[]): QueueRow[] {
  const rows = new Map<string, QueueRow>();
  for (const s of stats) {
    const row = rows.get(s.queue) ?? {
      queue: s.queue,
      queued: 0,
      waitSeconds: 0,
      scheduled: 0,
      running: 0,
      done: 0,
      dead: 0,
    };
    if (isState(s.state)) row[s.state] += s.count;
    if (s.state === 'queued') row.waitSeconds = Math.max(row.waitSeconds, s.waitSeconds);
    rows.set(s.queue, row);
  }
  const urgency = (r: QueueRow) => r.dead * 1e6 + r.waitSeconds * 10 + r.queued + r.running;
  return [...rows.values()].sort((a, b) => urgency(b) - urgency(a) || a.queue.localeCompare(b.queue));
}
