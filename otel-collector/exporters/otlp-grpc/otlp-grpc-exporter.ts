// exporter `otlp_grpc`: sends our encoded OTLP to any OTLP/gRPC endpoint (Jaeger, Tempo, another
// collector) with @grpc/grpc-js, through the shared queue + retry sender. Retryable per the OTLP
// spec: UNAVAILABLE, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, CANCELLED, DATA_LOSS, and
// RESOURCE_EXHAUSTED only when the server sent RetryInfo.
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { object, str, bool, oneOf, record, optional, type Infer } from '../../../common/config/config-schema.js';
import type { ExporterFactory } from '../../component/factory.js';
import type { Signal, SignalData } from '../../component/consumer.js';
import {
  encodeTraceRequest, encodeMetricsRequest, encodeLogsRequest, decodeExportResponse, grpcRetry,
} from '../../pdata/codec.js';
import type { Traces, Metrics, Logs } from '../../pdata/types.js';
import { countItems } from '../../pdata/split.js';
import { senderFields } from '../exporter-helper/sender-config.js';
import { QueuedRetrySender, type SendResult } from '../exporter-helper/queued-retry-sender.js';

const config = object({
  /** host:port, or a grpc-js target such as dns:///collector:4317. */
  endpoint: str('127.0.0.1:4317', { nonEmpty: true }),
  tls: object({ insecure: bool(true), ca_file: optional(str(undefined, { nonEmpty: true })) }),
  compression: oneOf(['gzip', 'none'] as const, 'gzip'),
  headers: record(str()),
  ...senderFields,
});
export type OtlpGrpcConfig = Infer<typeof config>;

const PATHS: Record<Signal, string> = {
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  metrics: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
};
const ITEMS: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };

function encode(signal: Signal, d: SignalData[Signal]): Buffer {
  const b = signal === 'traces' ? encodeTraceRequest(d as Traces) : signal === 'metrics' ? encodeMetricsRequest(d as Metrics) : encodeLogsRequest(d as Logs);
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

export const otlpGrpcExporterFactory: ExporterFactory<OtlpGrpcConfig> = {
  type: 'otlp_grpc',
  kind: 'exporter',
  signals: ['traces', 'metrics', 'logs'],
  config,
  create(s, cfg, signals) {
    let client: grpc.Client | undefined;
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries(cfg.headers)) metadata.set(k.toLowerCase(), v);

    const send = (signal: Signal) => (body: Buffer): Promise<SendResult> => new Promise((resolve) => {
      if (!client) { resolve({ ok: false, retryable: true, message: 'exporter not started' }); return; }
      client.makeUnaryRequest(PATHS[signal], (b: Buffer) => b, (b: Buffer) => b, body, metadata,
        { deadline: Date.now() + cfg.timeout }, (err, resp) => {
          if (!err) {
            const ps = resp ? decodeExportResponse(signal, resp) : { ok: true as const, value: undefined };
            if (ps.ok && ps.value) resolve({ ok: true, rejected: ps.value.rejected, message: ps.value.errorMessage });
            else resolve({ ok: true });
            return;
          }
          const { retryable, retryDelayMs } = grpcRetry(err.code, err.metadata?.get('grpc-status-details-bin')[0]);
          resolve({ ok: false, retryable, message: `${grpc.status[err.code]}: ${err.details}`, retryAfterMs: retryDelayMs });
        });
    });

    const senders = new Map<Signal, QueuedRetrySender<Buffer>>();
    for (const sig of signals) {
      senders.set(sig, new QueuedRetrySender(s, { retry: cfg.retry_on_failure, queue: cfg.sending_queue, item: ITEMS[sig] }, send(sig)));
    }
    // Encode on the way in: the queue holds compact bytes, not object graphs.
    const consume = (sig: Signal) => (d: SignalData[Signal]) => senders.get(sig)!.consume(encode(sig, d), countItems(sig, d));

    return {
      consumeTraces: signals.includes('traces') ? consume('traces') : undefined,
      consumeMetrics: signals.includes('metrics') ? consume('metrics') : undefined,
      consumeLogs: signals.includes('logs') ? consume('logs') : undefined,
      async start() {
        const creds = cfg.tls.insecure
          ? grpc.credentials.createInsecure()
          : grpc.credentials.createSsl(cfg.tls.ca_file ? readFileSync(cfg.tls.ca_file) : undefined);
        client = new grpc.Client(cfg.endpoint, creds, {
          'grpc.default_compression_algorithm': cfg.compression === 'gzip' ? 2 : 0,
          'grpc.max_send_message_length': 64 * 1024 * 1024,
        });
        for (const x of senders.values()) x.start();
      },
      async shutdown() {
        for (const x of senders.values()) await x.shutdown(cfg.timeout);
        client?.close();
      },
    };
  },
};
