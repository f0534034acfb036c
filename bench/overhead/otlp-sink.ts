// An OTLP/gRPC and OTLP/HTTP endpoint that accepts and discards exports (counts bytes as they
// arrive, compressed or not), so the traced runs pay the agent's full export cost without a
// backend's cost on the same two cores.
import * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:http';
import { setStreamWindow, widenConnectionWindows } from '../../otel-collector/receivers/otlp/grpc-receive-window.js';

const raw = {
  requestSerialize: (b: Buffer) => b,
  requestDeserialize: (b: Buffer) => b,
  responseSerialize: (b: Buffer) => b,
  responseDeserialize: (b: Buffer) => b,
};
const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({ path, requestStream: false, responseStream: false, ...raw });

export interface OtlpSink { port: number; httpPort: number; bytes: number; exports: number; close(): Promise<void> }

/** `wideWindow`: the collector receiver's larger HTTP/2 receive window (off: Node's 64 KiB default). */
export async function startOtlpSink(wideWindow = true): Promise<OtlpSink> {
  const server = new grpc.Server();
  if (wideWindow) setStreamWindow(server);
  const http = createServer((req, res) => {
    req.on('data', (c: Buffer) => { sink.bytes += c.length; });
    req.on('end', () => {
      sink.exports++;
      res.writeHead(200, { 'Content-Type': 'application/x-protobuf', 'Content-Length': 0 }).end(); // empty response: all accepted
    });
  });
  const sink: OtlpSink = { port: 0, httpPort: 0, bytes: 0, exports: 0,
    close: () => new Promise((r) => { http.close(); server.tryShutdown(() => r()); }) };
  const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, cb) => {
    sink.bytes += call.request.length;
    sink.exports++;
    cb(null, Buffer.alloc(0)); // an empty Export*ServiceResponse: everything accepted
  };
  for (const svc of ['trace.v1.TraceService', 'metrics.v1.MetricsService']) {
    server.addService({ Export: method(`/opentelemetry.proto.collector.${svc}/Export`) }, { Export: handler });
  }
  sink.port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
  if (wideWindow) widenConnectionWindows(server);
  sink.httpPort = await new Promise<number>((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)));
  return sink;
}
