// Bench-only: the least an OTLP/gRPC export can cost on node:http2 — one session, one stream per
// request, the 5-byte gRPC message prefix, grpc-status from the trailers; no channel, resolver,
// interceptors, deadlines or retries. Beside the SDK's grpc-js transport in the stage bench it
// tells how much of the gRPC export cost is grpc-js and how much is HTTP/2 itself.
import { connect, type ClientHttp2Session } from 'node:http2';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';

export class RawHttp2GrpcTransport implements IExporterTransport {
  private session?: ClientHttp2Session;
  constructor(private readonly endpoint: string, private readonly path = '/opentelemetry.proto.collector.trace.v1.TraceService/Export') {}

  send(data: Uint8Array): Promise<ExportResponse> {
    this.session ??= connect(this.endpoint);
    const head = Buffer.allocUnsafe(5);
    head[0] = 0;
    head.writeUInt32BE(data.length, 1);
    return new Promise((resolve) => {
      const s = this.session!.request({ ':method': 'POST', ':path': this.path, 'content-type': 'application/grpc', te: 'trailers' });
      const chunks: Buffer[] = [];
      let status = '';
      s.on('data', (c: Buffer) => chunks.push(c));
      s.on('trailers', (t) => { status = String(t['grpc-status'] ?? ''); });
      s.on('error', (error) => resolve({ status: 'failure', error }));
      s.on('end', () => resolve(status === '0' ? { status: 'success', data: Buffer.concat(chunks).subarray(5) }
        : { status: 'failure', error: new Error(`grpc-status ${status}`) }));
      s.write(head);
      s.end(data);
    });
  }

  shutdown(): void {
    this.session?.close();
  }
}
