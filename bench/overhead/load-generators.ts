// Real load generators from Debian's packages: wrk for saturation, hey for a fixed request rate.
// Both run against loopback only and stop by themselves after a bounded duration.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]') {
    throw new Error(`load generators only target loopback, not ${host}`);
  }
}

function toMs(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us': return v / 1000;
    case 'ms': return v;
    case 's': return v * 1000;
    case 'm': return v * 60_000;
    default: throw new Error(`unknown latency unit ${unit}`);
  }
}

/** Saturation run. `closeEachRequest` sends Connection: close, so every request is a new connection. */
export async function wrk(url: string, opts: { connections: number; threads: number; seconds: number; closeEachRequest?: boolean }): Promise<LoadResult> {
  assertLoopback(url);
  const args = ['--latency', '-t', String(opts.threads), '-c', String(opts.connections), '-d', `${opts.seconds}s`];
  if (opts.closeEachRequest) args.push('-H', 'Connection: close');
  args.push(url);
  const { stdout } = await run('wrk', args, { timeout: (opts.seconds + 30) * 1000 });
  const total = /(\d+) requests in/.exec(stdout);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p50 = /\s50%\s+([\d.]+)(us|ms|s|m)\b/.exec(stdout);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s|m)\b/.exec(stdout);
  if (!total || !rps || !p50 || !p99) throw new Error(`could not read wrk output:\n${stdout}`);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
  const errors = (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0);
  return {
    requests: Number(total[1]),
    requestsPerSecond: Number(rps[1]),
    p50Ms: toMs(p50[1]!, p50[2]!),
    p99Ms: toMs(p99[1]!, p99[2]!),
    errors,
  };
}

/** Fixed-rate run: `rate` requests/s in total, spread over `workers` keep-alive workers. */
export async function heyFixedRate(url: string, opts: { rate: number; workers: number; seconds: number }): Promise<LoadResult> {
  assertLoopback(url);
  const perWorker = Math.max(1, Math.round(opts.rate / opts.workers));
  const args = ['-z', `${opts.seconds}s`, '-c', String(opts.workers), '-q', String(perWorker), url];
  const { stdout } = await run('hey', args, { timeout: (opts.seconds + 30) * 1000, maxBuffer: 16 << 20 });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
  const p50 = /50%+ in ([\d.]+) secs/.exec(stdout);
  const p99 = /99%+ in ([\d.]+) secs/.exec(stdout);
  const codes = [...stdout.matchAll(/\[(\d{3})\]\s+(\d+) responses/g)];
  if (!rps || !p50 || !p99) throw new Error(`could not read hey output:\n${stdout}`);
  const requests = codes.reduce((a, m) => a + Number(m[2]), 0);
  const errors = codes.filter((m) => !m[1]!.startsWith('2')).reduce((a, m) => a + Number(m[2]), 0);
  return { requests, requestsPerSecond: Number(rps[1]), p50Ms: Number(p50[1]) * 1000, p99Ms: Number(p99[1]) * 1000, errors };
}
