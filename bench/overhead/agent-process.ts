// Runs the real agent (`sockeye agent`) as its own process, as a user would, and waits for /readyz.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { get } from 'node:http';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url)); // dist/bench/overhead → repo

export interface AgentProcess {
  pid: number;
  listen: string;
  stderr: () => string;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get(url, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error('timeout')));
  });
}

export async function startAgentProcess(opts: { listenPort: number; otlpPort?: number; extraArgs?: string[] }): Promise<AgentProcess> {
  const listen = `127.0.0.1:${opts.listenPort}`;
  const args = [`${repoRoot}bin/sockeye.js`, 'agent', '--no-live', '--listen', listen];
  if (opts.otlpPort) args.push('--endpoint', `http://127.0.0.1:${opts.otlpPort}`, '--protocol', 'grpc');
  else args.push('--no-export');
  args.push(...(opts.extraArgs ?? []));
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OTEL_METRIC_EXPORT_INTERVAL: '5000' } });
  let err = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => { err = (err + c).slice(-20_000); });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`agent exited (${child.exitCode}) before ready:\n${err}`);
    const ok = await httpGet(`http://${listen}/readyz`).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error(`agent not ready after 30 s:\n${err}`); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    pid: child.pid!,
    listen,
    stderr: () => err,
    metrics: async () => (await httpGet(`http://${listen}/metrics`)).body,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.once('exit', () => { clearTimeout(t); resolve(); });
      child.kill('SIGTERM');
    }),
  };
}

/** Sum of a Prometheus text metric's samples whose line starts with `prefix`. */
export function sumMetric(text: string, prefix: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(prefix)) sum += Number(line.slice(line.lastIndexOf(' ') + 1)) || 0;
  }
  return sum;
}
