// receiver `otlp`: OTLP over gRPC (4317) and HTTP (4318) into the pipelines that name it.
import type { Server as GrpcServer } from '@grpc/grpc-js';
import type http from 'node:http';
import type { ReceiverFactory, Component } from '../../component/factory.js';
import { otlpReceiverConfig, type OtlpReceiverConfig } from './otlp-config.js';
import { makeExportHandler } from './export-handler.js';
import { startGrpcFront, stopGrpcFront } from './grpc-front.js';
import { startHttpFront, stopHttpFront } from './http-front.js';

export interface OtlpReceiver extends Component {
  /** Bound ports once started (useful with port 0). */
  grpcPort?: number;
  httpPort?: number;
}

export const otlpReceiverFactory: ReceiverFactory<OtlpReceiverConfig> = {
  type: 'otlp',
  kind: 'receiver',
  signals: ['traces', 'metrics', 'logs'],
  config: otlpReceiverConfig,
  create(s, cfg, next): OtlpReceiver {
    const handle = makeExportHandler(s, next);
    let grpcServer: GrpcServer | undefined;
    let httpServer: http.Server | undefined;
    const self: OtlpReceiver = {
      async start() {
        const { grpc, http: h } = cfg.protocols;
        try {
          if (grpc) {
            const g = await startGrpcFront(s, grpc.endpoint, grpc.max_recv_msg_size_mib, handle, grpc.keepalive.server_parameters);
            grpcServer = g.server;
            self.grpcPort = g.port;
            s.logger.info(`OTLP/gRPC listening on ${grpc.endpoint.replace(/:0$/, `:${g.port}`)}`);
          }
          if (h) {
            const x = await startHttpFront(s, {
              endpoint: h.endpoint, maxBody: h.max_request_body_size,
              paths: { traces: h.traces_url_path, metrics: h.metrics_url_path, logs: h.logs_url_path },
            }, handle);
            httpServer = x.server;
            self.httpPort = x.port;
            s.logger.info(`OTLP/HTTP listening on ${h.endpoint.replace(/:0$/, `:${x.port}`)}`);
          }
        } catch (e) {
          await self.shutdown();
          throw new Error(`cannot listen: ${(e as Error).message}`);
        }
      },
      async shutdown() {
        if (grpcServer) await stopGrpcFront(grpcServer);
        if (httpServer) await stopHttpFront(httpServer);
        grpcServer = httpServer = undefined;
      },
    };
    return self;
  },
};
