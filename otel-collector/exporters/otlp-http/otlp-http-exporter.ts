// exporter `otlp_http`: POSTs our encoded OTLP (protobuf or JSON, gzip by default) to an OTLP/HTTP
// endpoint with fetch, through the shared queue + retry sender. Retryable: 429, 502, 503, 504
// (Retry-After honored) and network errors; other statuses are permanent.
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { object, url, oneOf, record, str, optional, type Infer } from '../../../common/config/config-schema.js';
import type { ExporterFactory } from '../../component/factory.js';
import type { Signal, SignalData } from '../../component/consumer.js';
import { encodeTraceRequest, encodeMetricsRequest, encodeLogsRequest, decodeExportResponse, decodeRpcStatus } from '../../pdata/codec.js';
import { encodeTraceRequestJson, encodeMetricsRequestJson, encodeLogsRequestJson, decodeExportResponseJson } from '../../pdata/json-codec.js';
import type { Traces, Metrics, Logs } from '../../pdata/types.js';
import { countItems } from '../../pdata/split.js';
import { senderFields } from '../exporter-helper/sender-config.js';
import { QueuedRetrySender, type SendResult } from '../exporter-helper/queued-retry-sender.js';

const gzip = promisify(zlib.gzip);

const config = object({
  /** Base URL; /v1/traces etc. are appended unless a per-signal endpoint is given. */
  endpoint: url('http://127.0.0.1:4318'),
  traces_endpoint: optional(url()),
  metrics_endpoint: optional(url()),
  logs_endpoint: optional(url()),
  encoding: oneOf(['proto', 'json'] as const, 'proto'),
  compression: oneOf(['gzip', 'none'] as const, 'gzip'),
  headers: record(str()),
  ...senderFields,
});
export type OtlpHttpConfig = Infer<typeof config>;

const ITEMS: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

function retryAfterMs(h: string | null): number | undefined {
  if (!h) return undefined;
  const secs = Number(h);
  if (Number.isFinite(secs)) return secs * 1000;
  const at = Date.parse(h);
  return Number.isFinite(at) ? Math.max(0, at - Date.now()) : undefined;
}

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpConfig> = {
  type: 'otlp_http',
  kind: 'exporter',
  signals: ['traces', 'metrics', 'logs'],
  config,
  create(s, cfg, signals) {
    const json = cfg.encoding === 'json';
    const target = (sig: Signal) => cfg[`${sig}_endpoint`] ?? `${cfg.endpoint.replace(/\/+$/, '')}/v1/${sig}`;
    const encode = (sig: Signal, d: SignalData[Signal]): Uint8Array | string => json
      ? (sig === 'traces' ? encodeTraceRequestJson(d as Traces) : sig === 'metrics' ? encodeMetricsRequestJson(d as Metrics) : encodeLogsRequestJson(d as Logs))
      : (sig === 'traces' ? encodeTraceRequest(d as Traces) : sig === 'metrics' ? encodeMetricsRequest(d as Metrics) : encodeLogsRequest(d as Logs));

    const send = (sig: Signal) => async (body: Uint8Array | string): Promise<SendResult> => {
      const headers: Record<string, string> = { ...cfg.headers, 'content-type': json ? 'application/json' : 'application/x-protobuf' };
      let payload: Uint8Array | string = body;
      if (cfg.compression === 'gzip') { payload = await gzip(body); headers['content-encoding'] = 'gzip'; }
      let res: Response;
      try {
        res = await fetch(target(sig), { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(cfg.timeout) });
      } catch (e) {
        const cause = (e as { cause?: Error }).cause;
        return { ok: false, retryable: true, message: `${(e as Error).message}${cause ? `: ${cause.message}` : ''}` };
      }
      const buf = new Uint8Array(await res.arrayBuffer());
      const isJson = (res.headers.get('content-type') ?? '').includes('json');
      if (res.ok) {
        const ps = isJson ? decodeExportResponseJson(sig, Buffer.from(buf).toString('utf8')) : decodeExportResponse(sig, buf);
        return ps.ok && ps.value ? { ok: true, rejected: ps.value.rejected, message: ps.value.errorMessage } : { ok: true };
      }
      let message = `HTTP ${res.status}`;
      if (isJson) {
        try { message += `: ${(JSON.parse(Buffer.from(buf).toString('utf8')) as { message?: string }).message ?? ''}`; } catch { /* body not JSON after all */ }
      } else {
        const st = decodeRpcStatus(buf);
        if (st.ok && st.value.message) message += `: ${st.value.message}`;
      }
      return { ok: false, retryable: RETRYABLE_HTTP.has(res.status), message, retryAfterMs: retryAfterMs(res.headers.get('retry-after')) };
    };

    const senders = new Map<Signal, QueuedRetrySender<Uint8Array | string>>();
    for (const sig of signals) {
      senders.set(sig, new QueuedRetrySender(s, { retry: cfg.retry_on_failure, queue: cfg.sending_queue, item: ITEMS[sig] }, send(sig)));
    }
    const consume = (sig: Signal) => (d: SignalData[Signal]) => senders.get(sig)!.consume(encode(sig, d), countItems(sig, d));
    return {
      consumeTraces: signals.includes('traces') ? consume('traces') : undefined,
      consumeMetrics: signals.includes('metrics') ? consume('metrics') : undefined,
      consumeLogs: signals.includes('logs') ? consume('logs') : undefined,
      async start() { for (const x of senders.values()) x.start(); },
      async shutdown() { for (const x of senders.values()) await x.shutdown(cfg.timeout); },
    };
  },
};
