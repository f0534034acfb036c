// extension `health_check`: an HTTP endpoint for liveness/readiness probes. 200 while every
// component is started and none reported a fatal error; 503 before start, during shutdown or after
// a fatal error.
import http from 'node:http';
import { object, endpoint, str, type Infer } from '../../../common/config/config-schema.js';
import type { ExtensionFactory, Host } from '../../component/factory.js';
import { splitHostPort } from '../../component/host-port.js';

const config = object({
  endpoint: endpoint('127.0.0.1:13133'),
  path: str('/'),
}, (c, fail) => {
  if (!c.path.startsWith('/')) fail('path', `must start with "/", got ${JSON.stringify(c.path)}`);
});
export type HealthCheckConfig = Infer<typeof config>;

export interface HealthCheck { port?: number }

export const healthCheckExtensionFactory: ExtensionFactory<HealthCheckConfig> = {
  type: 'health_check',
  kind: 'extension',
  config,
  create(s, cfg) {
    let server: http.Server | undefined;
    const started = Date.now();
    const self = {
      port: undefined as number | undefined,
      async start(host: Host) {
        server = http.createServer((req, res) => {
          if (req.url?.split('?')[0] !== cfg.path) { res.writeHead(404).end(); return; }
          const ok = host.isReady();
          res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({
            status: ok ? 'Server available' : 'Server not available',
            upSince: new Date(started).toISOString(),
            uptime: `${((Date.now() - started) / 1000).toFixed(1)}s`,
          }));
        });
        const { host: h, port } = splitHostPort(cfg.endpoint);
        await new Promise<void>((res, rej) => { server!.once('error', rej); server!.listen(port, h, () => res()); });
        self.port = (server.address() as { port: number }).port;
      },
      async shutdown() {
        if (!server) return;
        await new Promise<void>((res) => { server!.close(() => res()); server!.closeAllConnections(); });
      },
    };
    return self;
  },
};
