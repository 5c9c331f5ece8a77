import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';

export interface Target {
  port: number;
  child: ChildProcess;
  agent: Agent;
}

/** Starts a server script in its own process (so the load generator does not share its event loop). */
export function startServer(script: string, args: string[]): Promise<Target> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve({ port: Number(m[1]), child, agent: new Agent({ keepAlive: true, maxSockets: 64 }) });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

export function get(t: Target, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.port, path, agent: t.agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Requests/s from `concurrency` keep-alive callers for `seconds`. */
export async function rate(t: Target, path: string, seconds: number, concurrency: number): Promise<number> {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await get(t, path);
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

export async function stop(t: Target | undefined): Promise<void> {
  if (!t) return;
  t.agent.destroy();
  t.child.kill();
}

/** One keep-alive request to 127.0.0.1; resolves with the body of a 200 answer, rejects with the status otherwise. */
export function httpText(
  agent: Agent,
  port: number,
  path: string,
  opts: { method?: string; headers?: Record<string, string | number>; body?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent, headers: opts.headers },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode} ${text.slice(0, 200)}`)),
        );
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
