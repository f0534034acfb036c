// The live terminal view: per service and route (or RPC method / DNS type), request rate, error
// rate, p50 and p99 over the last 10 s, redrawn in place. Rendering is a pure function of the
// rows so it can be tested without a terminal.
import type { LiveRow } from '../agent/signals/live-stats.js';

export interface LiveHeader {
  uptimeS: number;
  exportTarget: string;
  metricsUrl: string;
  counters: Array<[string, number]>;
  /** One line on span sampling (agent/sampling/sampling-telemetry.ts samplingSummary). */
  sampling?: string;
}

function fmtDuration(s: number): string {
  if (s === 0) return '-';
  if (s < 1e-3) return `${(s * 1e6).toFixed(0)}µs`;
  if (s < 1) return `${(s * 1e3).toFixed(s < 0.01 ? 2 : 1)}ms`;
  return `${s.toFixed(2)}s`;
}

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s.padEnd(n));

export function renderLiveView(rows: LiveRow[], h: LiveHeader, maxRows = 30, width = 110): string {
  const out: string[] = [];
  out.push(`sockeye agent — up ${Math.floor(h.uptimeS)}s — export: ${h.exportTarget} — ${h.metricsUrl}`);
  out.push(h.counters.map(([k, v]) => `${k} ${v}`).join('  '));
  if (h.sampling) out.push(h.sampling);
  out.push('');
  const opW = Math.max(20, width - 24 - 4 - 9 - 8 - 9 - 9 - 6);
  out.push(`${cut('SERVICE', 24)} ${cut('KIND', 4)} ${cut('OPERATION', opW)} ${'REQ/S'.padStart(8)} ${'ERR%'.padStart(7)} ${'P50'.padStart(8)} ${'P99'.padStart(8)}`);
  if (rows.length === 0) out.push('(no traffic seen yet — requests to any HTTP, gRPC or DNS server on this node show up here)');
  for (const r of rows.slice(0, maxRows)) {
    out.push(`${cut(r.service, 24)} ${cut(r.kind === 'server' ? 'srv' : 'cli', 4)} ${cut(r.operation, opW)} ${r.ratePerS.toFixed(1).padStart(8)} ${(r.errorRate * 100).toFixed(1).padStart(7)} ${fmtDuration(r.p50S).padStart(8)} ${fmtDuration(r.p99S).padStart(8)}`);
  }
  if (rows.length > maxRows) out.push(`… ${rows.length - maxRows} more`);
  return out.join('\n');
}

/** Redraws the view on an interval; clears the screen with ANSI codes only when on a TTY. */
export class LiveView {
  private timer?: NodeJS.Timeout;
  constructor(private readonly draw: () => string, private readonly out: NodeJS.WriteStream = process.stdout) {}

  start(periodMs: number): void {
    const tick = () => {
      const text = this.draw();
      this.out.write(this.out.isTTY ? `\x1b[H\x1b[2J${text}\n` : `${text}\n\n`);
    };
    tick();
    this.timer = setInterval(tick, periodMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
