// A real OTLP receiver for tests: a @grpc/grpc-js server implementing the official
// TraceService/Export and MetricsService/Export on loopback, plus an HTTP server taking
// http/protobuf at /v1/traces and /v1/metrics. Decoding uses the collector's pdata codec (the
// official OTLP protobuf schema). Flattened views make assertions short.
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  decodeMetricsRequest, decodeTraceRequest, encodeMetricsResponse, encodeTraceResponse, int64ToBigInt, int64ToNumber,
  metricsServiceDefinition, traceServiceDefinition,
  type AnyValue, type KeyValue, type Metrics, type Traces,
} from '../../../otel-collector/pdata/index.js';

export interface FlatSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  /** The span's W3C tracestate ('' when absent). */
  traceState: string;
  startNs: bigint;
  endNs: bigint;
  statusCode: number;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
  scopeName: string;
  schemaUrl: string;
  events: Array<{ name: string; timeNs: bigint; attributes: Record<string, unknown> }>;
}

export interface FlatPoint {
  metric: string;
  unit: string;
  service: string;
  attributes: Record<string, unknown>;
  count: number;
  bounds: number[];
  bucketCounts: number[];
  sum: number;
}

export function anyValue(v: AnyValue | null | undefined): unknown {
  if (!v) return undefined;
  // protobufjs puts field defaults on the prototype: only own properties were on the wire.
  const has = (k: keyof AnyValue) => Object.prototype.hasOwnProperty.call(v, k) && v[k] != null;
  if (has('stringValue')) return v.stringValue;
  if (has('boolValue')) return v.boolValue;
  if (has('intValue')) return int64ToNumber(v.intValue);
  if (has('doubleValue')) return v.doubleValue;
  if (has('arrayValue')) return v.arrayValue!.values.map(anyValue);
  return undefined;
}

export function attrs(kvs: KeyValue[] | undefined): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const kv of kvs ?? []) o[kv.key] = anyValue(kv.value);
  return o;
}

const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : '');

export class OtlpTestReceiver {
  readonly traceRequests: Traces[] = [];
  readonly metricRequests: Metrics[] = [];
  private grpcServer?: grpc.Server;
  private httpServer?: Server;
  grpcEndpoint = '';
  httpEndpoint = '';

  static async start(): Promise<OtlpTestReceiver> {
    const r = new OtlpTestReceiver();
    await r.listen();
    return r;
  }

  private async listen(): Promise<void> {
    const server = new grpc.Server();
    server.addService(traceServiceDefinition, {
      Export: (call: grpc.ServerUnaryCall<Traces, object>, cb: grpc.sendUnaryData<object>) => {
        this.traceRequests.push(call.request);
        cb(null, {});
      },
    });
    server.addService(metricsServiceDefinition, {
      Export: (call: grpc.ServerUnaryCall<Metrics, object>, cb: grpc.sendUnaryData<object>) => {
        this.metricRequests.push(call.request);
        cb(null, {});
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    this.grpcServer = server;
    this.grpcEndpoint = `http://127.0.0.1:${port}`;

    this.httpServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url === '/v1/traces') {
          const d = decodeTraceRequest(body);
          if (d.ok) this.traceRequests.push(d.value);
          res.writeHead(d.ok ? 200 : 400, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(encodeTraceResponse()));
        } else if (req.url === '/v1/metrics') {
          const d = decodeMetricsRequest(body);
          if (d.ok) this.metricRequests.push(d.value);
          res.writeHead(d.ok ? 200 : 400, { 'content-type': 'application/x-protobuf' }).end(Buffer.from(encodeMetricsResponse()));
        } else res.writeHead(404).end();
      });
    });
    await new Promise<void>((res) => this.httpServer!.listen(0, '127.0.0.1', res));
    this.httpEndpoint = `http://127.0.0.1:${(this.httpServer.address() as AddressInfo).port}`;
  }

  spans(): FlatSpan[] {
    const out: FlatSpan[] = [];
    for (const req of this.traceRequests) {
      for (const rs of req.resourceSpans) {
        const resource = attrs(rs.resource?.attributes);
        for (const ss of rs.scopeSpans) {
          for (const s of ss.spans) {
            out.push({ name: s.name, kind: s.kind, traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), traceState: s.traceState ?? '',
              startNs: int64ToBigInt(s.startTimeUnixNano), endNs: int64ToBigInt(s.endTimeUnixNano), statusCode: s.status?.code ?? 0,
              attributes: attrs(s.attributes), resource, scopeName: ss.scope?.name ?? '', schemaUrl: ss.schemaUrl ?? '',
              events: (s.events ?? []).map((e) => ({ name: e.name, timeNs: int64ToBigInt(e.timeUnixNano), attributes: attrs(e.attributes) })) });
          }
        }
      }
    }
    return out;
  }

  /** Histogram points from the latest export of each (service, metric, attributes) — cumulative. */
  points(): FlatPoint[] {
    const latest = new Map<string, FlatPoint>();
    for (const req of this.metricRequests) {
      for (const rm of req.resourceMetrics) {
        const service = String(attrs(rm.resource?.attributes)['service.name']);
        for (const sm of rm.scopeMetrics) {
          for (const m of sm.metrics) {
            for (const dp of m.histogram?.dataPoints ?? []) {
              const a = attrs(dp.attributes);
              latest.set(`${service}|${m.name}|${JSON.stringify(a)}`, { metric: m.name, unit: m.unit ?? '', service, attributes: a,
                count: int64ToNumber(dp.count), bounds: dp.explicitBounds, bucketCounts: dp.bucketCounts.map(int64ToNumber), sum: dp.sum ?? 0 });
            }
          }
        }
      }
    }
    return [...latest.values()];
  }

  async waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (!pred()) {
      if (Date.now() > end) throw new Error('timed out waiting for OTLP data');
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async close(): Promise<void> {
    await new Promise<void>((res) => this.grpcServer ? this.grpcServer.tryShutdown(() => res()) : res());
    this.grpcServer?.forceShutdown();
    await new Promise<void>((res) => this.httpServer ? this.httpServer.close(() => res()) : res());
  }
}
