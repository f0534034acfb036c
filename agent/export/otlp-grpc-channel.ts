// The gRPC channel behind OTLP/gRPC span export, and the reconnect policy it follows. The SDK's
// gRPC transport fixes its channel options, so grpc-js's default reconnect backoff applied (1 s,
// ×1.6 per failed attempt, up to 120 s): after a 60 s collector outage the agent needed ≈31 s to
// export again. This is the same small transport (one unary Export call on raw bytes) with the
// channel options below; the retry rule stays in otlp-grpc-retry.ts. Measured figures: docs/agent.md.
import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';
import type { ExportResponse, IExporterTransport } from '@opentelemetry/otlp-exporter-base';
import type { GrpcExporterTransportParameters } from '@opentelemetry/otlp-grpc-exporter-base/build/src/grpc-exporter-transport.js';

/**
 * Reconnect policy. While the collector is away the channel retries the connection every
 * 250 ms growing to at most 1 s (±20 % jitter): a refused connect per second costs nothing, and
 * the channel is ready again within ~1.2 s of the collector's return. Export calls wait for the
 * channel to be ready (up to their deadline) instead of failing at once, so the batch in flight
 * is the one that goes out the moment it is; the retry loop only sees the calls that ran out of time.
 */
export const RECONNECT_CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 1000,
} as const;

const SDK_USER_AGENT = 'OTel-OTLP-Exporter-JavaScript';
/** grpc-js compression algorithm ids. */
const COMPRESSION = { none: 0, gzip: 2 } as const;
/** Like the SDK's transport: a channel whose calls keep running out of time is replaced. */
const MAX_DEADLINE_EXCEEDED = 5;

const identity = (b: Buffer) => b;
/** A Buffer view of the encoded request, not a copy (Buffer.from(Uint8Array) copied ~1 MB per call). */
const asBuffer = (d: Uint8Array) => (Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength));

export class ReconnectingGrpcTransport implements IExporterTransport {
  private client?: Grpc.Client;
  private deadlineExceeded = 0;

  constructor(private readonly p: GrpcExporterTransportParameters) {}

  send(data: Uint8Array, timeoutMillis: number): Promise<ExportResponse> {
    let client: Grpc.Client;
    let metadata: Grpc.Metadata;
    try {
      client = this.channel();
      metadata = this.p.metadata();
      metadata.setOptions({ waitForReady: true });
    } catch (error) {
      return Promise.resolve({ status: 'failure', error: error as Error });
    }
    return new Promise((resolve) => {
      client.makeUnaryRequest(this.p.grpcPath, identity, identity, asBuffer(data), metadata,
        { deadline: Date.now() + timeoutMillis }, (err, response) => {
          if (!err) {
            this.deadlineExceeded = 0;
            resolve({ status: 'success', data: response });
            return;
          }
          resolve({ status: 'failure', error: err });
          if (err.code === 4 /* DEADLINE_EXCEEDED */ && ++this.deadlineExceeded > MAX_DEADLINE_EXCEEDED) this.close();
        });
    });
  }

  shutdown(): void {
    this.close();
  }

  private channel(): Grpc.Client {
    if (this.client) return this.client;
    // Loaded on first use, as the SDK does: an agent exporting over HTTP never loads grpc-js.
    const grpc = createRequire(import.meta.url)('@grpc/grpc-js') as typeof Grpc;
    this.client = new grpc.Client(this.p.address, this.p.credentials(), {
      ...RECONNECT_CHANNEL_OPTIONS,
      'grpc.default_compression_algorithm': COMPRESSION[this.p.compression],
      'grpc.primary_user_agent': this.p.userAgent ? `${this.p.userAgent} ${SDK_USER_AGENT}` : SDK_USER_AGENT,
    });
    this.deadlineExceeded = 0;
    return this.client;
  }

  private close(): void {
    this.client?.close();
    this.client = undefined;
  }
}
