// One HTTP server for /metrics (Prometheus text: RED histograms + self-telemetry), /healthz
// (the process is alive) and /readyz (200 once programs are attached and the pipeline runs).
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listenProblem } from '../capture/startup-check.js';

export interface TelemetryServerOptions {
  listen: string;
  /** The Prometheus text in pieces, streamed to the scraper as they come (any number of series). */
  metrics: () => Iterable<string> | AsyncIterable<string>;
  /** undefined when ready, else why not. */
  notReadyReason: () => string | undefined;
}

export class TelemetryServer {
  private constructor(private readonly server: Server) {}

  static async start(opts: TelemetryServerOptions): Promise<TelemetryServer> {
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(opts.listen);
    if (!m) throw new Error(`listen address '${opts.listen}' is not host:port`);
    const host = m[1]!.replace(/^\[|\]$/g, '');
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/metrics') {
        void streamMetrics(res, opts.metrics, req.method === 'HEAD');
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const why = opts.notReadyReason();
        res.writeHead(why ? 503 : 200, { 'content-type': 'text/plain' }).end(why ? `not ready: ${why}\n` : 'ready\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz, /readyz\n');
      }
    });
    await new Promise<void>((resolve, reject) => {
      const fail = (e: NodeJS.ErrnoException) => reject(listenProblem(opts.listen, e));
      server.once('error', fail);
      server.listen(Number(m[2]), host, () => { server.off('error', fail); resolve(); });
    });
    return new TelemetryServer(server);
  }

  get address(): string {
    const a = this.server.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((res) => this.server.close(() => res()));
  }
}

/**
 * Writes each piece as it is rendered, waiting for the socket to drain before asking for the next,
 * so a scrape holds one piece in memory. A failure before the first piece is a 500; after it, the
 * status is gone, so the connection is cut (the scraper sees a truncated body, not a partial success).
 */
async function streamMetrics(res: ServerResponse, metrics: TelemetryServerOptions['metrics'], head: boolean): Promise<void> {
  const ok = () => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  if (head) { ok().end(); return; }
  let started = false;
  try {
    for await (const piece of metrics()) {
      if (res.destroyed) return;
      if (!started) { ok(); started = true; }
      if (!res.write(piece)) await drained(res);
    }
    if (!started) ok();
    res.end();
  } catch (e) {
    if (!started) res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${(e as Error).message}\n`);
    else res.destroy(e as Error);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => { res.off('drain', done); res.off('close', done); resolve(); };
    res.on('drain', done);
    res.on('close', done);
  });
}
