import type { BatchStats } from './batch.ts';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  count: number;
  sum: number;
  buckets: number[];
}

/** A tiny Prometheus registry: request counters and latency histograms by route and status, plus gauges. */
export class Metrics {
  private readonly requests = new Map<string, Series>();
  private readonly gauges: Array<() => Promise<string[]>> = [];

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${escapeLabel(route)}",status="${status}"`;
    let s = this.requests.get(key);
    if (!s) {
      s = { count: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
      this.requests.set(key, s);
    }
    s.count++;
    s.sum += seconds;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) s.buckets[i]++;
  }

  private readonly batchers = new Map<string, () => BatchStats>();

  /** A request batcher (platform/batch.ts) by name: statements sent, requests they carried, requests waiting. */
  registerBatcher(name: string, read: () => BatchStats): void {
    this.batchers.set(name, read);
  }

  /** A counter of this process, by labels (Prometheus sums the instances); returns its increment. */
  counter(name: string, help: string): (labels: Record<string, string>) => void {
    const counts = new Map<string, number>();
    this.addCollector(async () => [
      `# HELP ${name} ${help}`,
      `# TYPE ${name} counter`,
      ...[...counts].map(([labels, n]) => `${name}{${labels}} ${n}`),
    ]);
    return (labels) => {
      const key = Object.entries(labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    };
  }

  /** Adds lines computed at scrape time (e.g. job queue depth). */
  addCollector(collect: () => Promise<string[]>): void {
    this.gauges.push(collect);
  }

  async render(): Promise<string> {
    const out = ['# HELP http_requests_total HTTP requests by route and status.', '# TYPE http_requests_total counter'];
    for (const [labels, s] of this.requests) out.push(`http_requests_total{${labels}} ${s.count}`);
    out.push('# HELP http_request_duration_seconds Request latency.', '# TYPE http_request_duration_seconds histogram');
    for (const [labels, s] of this.requests) {
      BUCKETS.forEach((b, i) => {
        out.push(`http_request_duration_seconds_bucket{${labels},le="${b}"} ${s.buckets[i]}`);
      });
      out.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${s.count}`);
      out.push(`http_request_duration_seconds_sum{${labels}} ${s.sum}`);
      out.push(`http_request_duration_seconds_count{${labels}} ${s.count}`);
    }
    if (this.batchers.size) out.push(...this.batcherLines());
    for (const collect of this.gauges) out.push(...(await collect()));
    return `${out.join('\n')}\n`;
  }

  private batcherLines(): string[] {
    const families = [
      ['db_batch_statements_total', 'counter', 'Statements sent by a request batcher (group commit).', 'batches'],
      [
        'db_batch_requests_total',
        'counter',
        'Requests those statements carried (÷ statements = mean batch size).',
        'keys',
      ],
      ['db_batch_queued', 'gauge', 'Requests waiting for the next statement now.', 'queued'],
    ] as const;
    const read = [...this.batchers].map(([name, r]) => [escapeLabel(name), r()] as const);
    return families.flatMap(([metric, type, help, field]) => [
      `# HELP ${metric} ${help}`,
      `# TYPE ${metric} ${type}`,
      ...read.map(([name, v]) => `${metric}{batch="${name}"} ${v[field]}`),
    ]);
  }
}

const escapeLabel = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
