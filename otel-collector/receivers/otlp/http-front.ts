// OTLP/HTTP front end on node:http: POST protobuf or JSON to /v1/{traces,metrics,logs}, gzip or
// deflate bodies, a limit on body size before and after decompression (413), answers in the
// request's encoding; retryable refusals are 503 with Retry-After, bad requests 400 with a
// google.rpc.Status body saying why.
import http from 'node:http';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { Signal, SignalData } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import {
  decodeTraceRequest, decodeMetricsRequest, decodeLogsRequest, encodeRpcStatus,
  encodeTraceResponse, encodeMetricsResponse, encodeLogsResponse, type DecodeResult,
} from '../../pdata/codec.js';
import {
  decodeTraceRequestJson, decodeMetricsRequestJson, decodeLogsRequestJson, encodeExportResponseJson, encodeRpcStatusJson,
} from '../../pdata/json-codec.js';
import type { ExportHandler } from './export-handler.js';
import { splitHostPort } from '../../component/host-port.js';

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);

const DECODE: Record<Signal, { proto: (b: Uint8Array) => DecodeResult<unknown>; json: (b: Uint8Array) => DecodeResult<unknown>; resp: typeof encodeTraceResponse }> = {
  traces: { proto: decodeTraceRequest, json: decodeTraceRequestJson, resp: encodeTraceResponse },
  metrics: { proto: decodeMetricsRequest, json: decodeMetricsRequestJson, resp: encodeMetricsResponse },
  logs: { proto: decodeLogsRequest, json: decodeLogsRequestJson, resp: encodeLogsResponse },
};

export interface HttpFrontOptions {
  endpoint: string; maxBody: number; paths: Record<Signal, string>;
}

class HttpError extends Error { constructor(readonly status: number, message: string, readonly reason: string) { super(message); } }

function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((res, rej) => {
    const declared = Number(req.headers['content-length'] ?? -1);
    if (declared > max) { rej(new HttpError(413, `request body of ${declared} bytes exceeds the limit of ${max} bytes`, 'body_too_large')); return; }
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) { rej(new HttpError(413, `request body exceeds the limit of ${max} bytes`, 'body_too_large')); req.pause(); return; }
      chunks.push(c);
    });
    req.on('end', () => res(Buffer.concat(chunks, n)));
    req.on('error', rej);
  });
}

async function decompress(body: Buffer, encoding: string | undefined, max: number): Promise<Buffer> {
  const enc = (encoding ?? 'identity').toLowerCase().trim();
  try {
    if (enc === 'identity' || enc === '') return body;
    if (enc === 'gzip') return await gunzip(body, { maxOutputLength: max });
    if (enc === 'deflate') return await inflate(body, { maxOutputLength: max });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new HttpError(413, `decompressed body exceeds the limit of ${max} bytes`, 'decompressed_too_large');
    throw new HttpError(400, `cannot decompress ${enc} body: ${(e as Error).message}`, 'bad_compression');
  }
  throw new HttpError(415, `unsupported Content-Encoding "${enc}" (supported: gzip, deflate, identity)`, 'unsupported_content_encoding');
}

export async function startHttpFront(s: CreateSettings, o: HttpFrontOptions, handle: ExportHandler): Promise<{ server: http.Server; port: number }> {
  const malformed = s.telemetry.counter('receiver_malformed_requests', 'Requests that could not be decoded.');
  const failed = s.telemetry.counter('receiver_failed_requests', 'Requests answered with an error, by reason (HTTP: the answer\'s cause; gRPC: the status code).');
  const count = (reason: string) => failed.add(1, { receiver: s.id.toString(), transport: 'http', reason });
  const bySignal = new Map(Object.entries(o.paths).map(([sig, p]) => [p, sig as Signal]));
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const signal = bySignal.get(path);
    const ctype = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const json = ctype === 'application/json';
    const fail = (status: number, message: string, retryAfterMs?: number) => {
      const headers: http.OutgoingHttpHeaders = { 'content-type': json ? 'application/json' : 'application/x-protobuf' };
      if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
      const grpcCode = status === 503 ? 14 : status === 413 ? 8 : 3;
      res.writeHead(status, headers).end(json ? encodeRpcStatusJson(grpcCode, message) : Buffer.from(encodeRpcStatus(grpcCode, message)));
    };
    if (!signal) { count('not_found'); res.writeHead(404, { 'content-type': 'text/plain' }).end(`no OTLP endpoint at ${path}\n`); return; }
    if (req.method !== 'POST') { count('method_not_allowed'); res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('use POST\n'); return; }
    if (!json && ctype !== 'application/x-protobuf' && ctype !== 'application/protobuf') {
      count('unsupported_content_type');
      res.writeHead(415, { 'content-type': 'text/plain' }).end(`unsupported Content-Type "${ctype}" (use application/x-protobuf or application/json)\n`);
      req.resume();
      return;
    }
    (async () => {
      const raw = await readBody(req, o.maxBody);
      const body = await decompress(raw, req.headers['content-encoding'], o.maxBody);
      const d = DECODE[signal];
      const decoded = json ? d.json(body) : d.proto(body);
      if (!decoded.ok) {
        malformed.add(1, { receiver: s.id.toString(), transport: 'http' });
        throw new HttpError(400, decoded.error, 'malformed');
      }
      const out = await handle(signal, decoded.value as SignalData[Signal], 'http');
      if (out.kind === 'refused') {
        count(out.retryable ? 'refused_retryable' : 'refused_permanent');
        if (out.retryable) fail(503, out.message, out.retryAfterMs ?? 1000);
        else fail(400, out.message);
        return;
      }
      const p = { rejected: out.rejected, errorMessage: out.message };
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' })
        .end(json ? encodeExportResponseJson(signal, p) : Buffer.from(d.resp(p)));
    })().catch((e: Error) => {
      count(e instanceof HttpError ? e.reason : 'internal');
      if (e instanceof HttpError) {
        if (e.status === 413) res.setHeader('connection', 'close');
        fail(e.status, e.message);
      } else {
        fail(500, e.message);
      }
    });
  });
  const { host, port } = splitHostPort(o.endpoint);
  await new Promise<void>((res, rej) => { server.once('error', rej); server.listen(port, host, () => res()); });
  return { server, port: (server.address() as { port: number }).port };
}

export function stopHttpFront(server: http.Server): Promise<void> {
  return new Promise((res) => {
    server.close(() => res());
    server.closeAllConnections();
  });
}
