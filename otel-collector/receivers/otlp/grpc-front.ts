// OTLP/gRPC front end on @grpc/grpc-js: the three Export services, request decoding that reports
// malformed bytes as INVALID_ARGUMENT (not an internal error), message size limit, gzip (grpc-js
// negotiates it), retryable refusals as UNAVAILABLE with a RetryInfo detail, and a connection
// idle limit (otlp-config.ts: what closes connections a broken client left behind), and a 4 MiB
// HTTP/2 receive window (grpc-receive-window.ts).
import * as grpc from '@grpc/grpc-js';
import type { ServerHttp2Stream } from 'node:http2';
import type { Signal, SignalData } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import {
  decodeTraceRequest, decodeMetricsRequest, decodeLogsRequest, encodeRpcStatus,
  encodeTraceResponse, encodeMetricsResponse, encodeLogsResponse, type DecodeResult,
} from '../../pdata/codec.js';
import type { ExportHandler } from './export-handler.js';
import type { GrpcServerParameters } from './otlp-config.js';
import { setStreamWindow, widenConnectionWindows } from './grpc-receive-window.js';

const SERVICES: Record<Signal, { path: string; decode: (b: Uint8Array) => DecodeResult<unknown>; encode: typeof encodeTraceResponse }> = {
  traces: { path: '/opentelemetry.proto.collector.trace.v1.TraceService/Export', decode: decodeTraceRequest, encode: encodeTraceResponse },
  metrics: { path: '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export', decode: decodeMetricsRequest, encode: encodeMetricsResponse },
  logs: { path: '/opentelemetry.proto.collector.logs.v1.LogsService/Export', decode: decodeLogsRequest, encode: encodeLogsResponse },
};

type Reply = { rejected: number; message: string };

function definition(signal: Signal): grpc.ServiceDefinition {
  const svc = SERVICES[signal];
  return {
    Export: {
      path: svc.path,
      requestStream: false,
      responseStream: false,
      // Decoding is wrapped so a malformed request reaches the handler as an error value.
      requestDeserialize: (b: Buffer) => svc.decode(b),
      requestSerialize: () => { throw new Error('server side only'); },
      responseSerialize: (r: Reply) => Buffer.from(svc.encode({ rejected: r.rejected, errorMessage: r.message })),
      responseDeserialize: () => { throw new Error('server side only'); },
    },
  };
}

/** grpc-js channel options for the connection lifetime settings (0 = off → option left unset). */
export function lifetimeOptions(p: GrpcServerParameters): grpc.ServerOptions {
  const o: grpc.ServerOptions = { 'grpc.max_connection_idle_ms': p.max_connection_idle };
  if (p.max_connection_age > 0) {
    o['grpc.max_connection_age_ms'] = p.max_connection_age;
    o['grpc.max_connection_age_grace_ms'] = p.max_connection_age_grace;
  }
  if (p.time > 0) {
    o['grpc.keepalive_time_ms'] = p.time;
    o['grpc.keepalive_timeout_ms'] = p.timeout;
  }
  return o;
}

/**
 * Counts every call that ended with a non-OK status, by status name — including the ones grpc-js
 * answers by itself before our handler runs (RESOURCE_EXHAUSTED for a message over the size limit,
 * INTERNAL for a body that does not decompress). grpc-js has no hook for those, so this interceptor
 * watches the HTTP/2 stream of the innermost call (grpc-js 1.14 keeps it as `stream`) and reads the
 * grpc-status it sent; if that field ever disappears nothing is counted, and the receiver test fails.
 */
function failedCallCounter(count: (reason: string) => void): grpc.ServerInterceptor {
  return (_method, call) => {
    const stream = (call as unknown as { stream?: ServerHttp2Stream }).stream;
    stream?.once('close', () => {
      const code = Number(stream.sentTrailers?.['grpc-status'] ?? stream.sentHeaders?.['grpc-status'] ?? -1);
      if (code > 0) count((grpc.status[code] ?? String(code)).toLowerCase());
    });
    return new grpc.ServerInterceptingCall(call);
  };
}

export async function startGrpcFront(
  s: CreateSettings, endpoint: string, maxMiB: number, handle: ExportHandler, lifetime: GrpcServerParameters,
): Promise<{ server: grpc.Server; port: number }> {
  const failed = s.telemetry.counter('receiver_failed_requests', 'Requests answered with an error, by reason (HTTP: the answer\'s cause; gRPC: the status code).');
  const server = new grpc.Server({
    'grpc.max_receive_message_length': maxMiB * 1024 * 1024,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
    ...lifetimeOptions(lifetime),
    interceptors: [failedCallCounter((reason) => failed.add(1, { receiver: s.id.toString(), transport: 'grpc', reason }))],
  });
  setStreamWindow(server);
  const malformed = s.telemetry.counter('receiver_malformed_requests', 'Requests that could not be decoded.');
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    server.addService(definition(signal), {
      Export: (call: grpc.ServerUnaryCall<DecodeResult<unknown>, Reply>, cb: grpc.sendUnaryData<Reply>) => {
        const req = call.request;
        if (!req.ok) {
          malformed.add(1, { receiver: s.id.toString(), transport: 'grpc' });
          cb({ code: grpc.status.INVALID_ARGUMENT, details: req.error });
          return;
        }
        handle(signal, req.value as SignalData[Signal], 'grpc').then((o) => {
          if (o.kind === 'accepted') { cb(null, { rejected: o.rejected, message: o.message }); return; }
          if (!o.retryable) { cb({ code: grpc.status.INVALID_ARGUMENT, details: o.message }); return; }
          const md = new grpc.Metadata();
          const delay = o.retryAfterMs ?? 1000;
          md.set('grpc-status-details-bin', Buffer.from(encodeRpcStatus(grpc.status.UNAVAILABLE, o.message, delay)));
          cb({ code: grpc.status.UNAVAILABLE, details: o.message, metadata: md });
        }, (e: Error) => cb({ code: grpc.status.INTERNAL, details: e.message }));
      },
    });
  }
  const port = await new Promise<number>((res, rej) => {
    server.bindAsync(endpoint, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? rej(err) : res(p)));
  });
  widenConnectionWindows(server);
  return { server, port };
}

export function stopGrpcFront(server: grpc.Server, graceMs = 2000): Promise<void> {
  return new Promise((res) => {
    const t = setTimeout(() => { server.forceShutdown(); res(); }, graceMs);
    server.tryShutdown(() => { clearTimeout(t); res(); });
  });
}
