/** Runs the sandbox payment service as its own OS process (tests, the demo server). */
import { type ChildProcess, spawn } from 'node:child_process';

export interface SandboxProcess {
  url: string;
  secret: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

const SERVER = new URL('./server.ts', import.meta.url).pathname;

export function spawnSandbox(
  opts: { secret?: string; port?: number; quiet?: boolean; stateFile?: string } = {},
): Promise<SandboxProcess> {
  const secret = opts.secret ?? `sandbox-${Math.random().toString(36).slice(2)}`;
  const state = opts.stateFile ? ['--state', opts.stateFile] : [];
  const child = spawn(process.execPath, [SERVER, '--port', String(opts.port ?? 0), '--secret', secret, ...state], {
    stdio: ['ignore', 'pipe', opts.quiet === false ? 'inherit' : 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('沙箱支付服务启动超时')), 15_000);
    child.once('exit', (code) => reject(new Error(`沙箱支付服务退出 (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(/SANDBOX_PAY_LISTENING (\S+)/);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({
          url: m[1],
          secret,
          child,
          stop: () =>
            new Promise<void>((r) => {
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
  });
}
