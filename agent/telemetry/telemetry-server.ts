// One HTTP server for /metrics (Prometheus text: RED histograms + self-telemetry), /healthz
// (the process is alive) and /readyz (200 once programs are attached and the pipeline runs).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TelemetryServerOptions {
  listen: string;
  metrics: () => Promise<string>;
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
        opts.metrics().then(
          (body) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(body),
          (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${e.message}\n`),
        );
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
      server.once('error', reject);
      server.listen(Number(m[2]), host, () => { server.off('error', reject); resolve(); });
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
