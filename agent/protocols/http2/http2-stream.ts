// What the HTTP/2 parser remembers about one stream, and how a finished stream becomes a
// Transaction (plain HTTP/2, or gRPC when the request's content-type says so).
import type { Direction, Role } from '../../capture/capture-events.js';
import type { GrpcInfo, HttpRequestInfo, Transaction, TransactionError } from '../transaction.js';
import type { ConnectionInfo } from '../engine/parser-registry.js';

export interface StreamState {
  id: number;
  /** Direction of the request HEADERS (client → server). */
  reqDir: Direction;
  startNs: number;
  requestBytes: number;
  responseBytes: number;
  request: HttpRequestInfo;
  contentType?: string;
  status?: number;
  grpcStatus?: number;
  grpcMessage?: string;
  /** A final (non-1xx) response header block was seen. */
  responded: boolean;
  anomalies: Set<string>;
}

const SENSITIVE = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Request fields from a decoded header block ([name, value, ...]). */
export function requestFromHeaders(h: string[]): { request: HttpRequestInfo; contentType?: string } {
  const request: HttpRequestInfo = { method: '', target: '', path: '', version: '2' };
  let contentType: string | undefined;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    switch (name) {
      case ':method': request.method = value; break;
      case ':path': {
        request.target = value;
        const q = value.indexOf('?');
        if (q < 0) request.path = value;
        else { request.path = value.slice(0, q); request.query = value.slice(q + 1); }
        break;
      }
      case ':authority': request.host = value; break;
      case ':scheme': if (value === 'http' || value === 'https') request.scheme = value; break;
      case 'host': request.host ??= value; break;
      case 'user-agent': request.userAgent = value; break;
      case 'content-length': { const n = Number(value); if (Number.isSafeInteger(n) && n >= 0) request.contentLength = n; break; }
      case 'traceparent': request.traceparent = value; break;
      case 'tracestate': request.tracestate = value; break;
      case 'content-type': contentType = value; break;
      default:
        if (SENSITIVE.has(name)) (request.sensitiveHeaders ??= []).push(name);
    }
  }
  return contentType === undefined ? { request } : { request, contentType };
}

/** Response or trailer fields into the stream. Returns the :status when the block carries one. */
export function applyResponseHeaders(s: StreamState, h: string[]): number | undefined {
  let status: number | undefined;
  for (let i = 0; i < h.length; i += 2) {
    const name = h[i]!;
    const value = h[i + 1]!;
    if (name === ':status') { const n = Number(value); if (Number.isInteger(n) && n >= 100 && n <= 999) status = n; }
    else if (name === 'grpc-status') { const n = Number(value); if (Number.isInteger(n) && n >= 0) s.grpcStatus = n; }
    else if (name === 'grpc-message') s.grpcMessage = percentDecode(value);
    else if (name === 'content-type') s.contentType ??= value; // request's may have been undecodable
  }
  return status;
}

/** grpc-message is percent-encoded UTF-8 (gRPC over HTTP/2 spec); keep the raw text if it is not. */
function percentDecode(v: string): string {
  if (!v.includes('%')) return v;
  try { return decodeURIComponent(v); } catch { return v; }
}

export function isGrpc(s: StreamState): boolean {
  return s.contentType !== undefined && s.contentType.startsWith('application/grpc');
}

/** gRPC status code for RST_STREAM without grpc-status (RFC 9113 error codes → gRPC spec mapping). */
export const GRPC_CANCELLED = 1;

/** `role` is the parser's (the kernel's when it knew, else what the frames showed), not conn.role. */
export function toTransaction(conn: ConnectionInfo, role: Role, s: StreamState, endNs: number, error?: TransactionError): Transaction {
  const tx: Transaction = {
    protocol: isGrpc(s) ? 'grpc' : 'http2',
    connId: conn.connId, role, tuple: conn.tuple, process: conn.process,
    streamId: s.id, startNs: s.startNs, endNs,
    requestBytes: s.requestBytes, responseBytes: s.responseBytes,
    http: s.status === undefined ? { request: s.request } : { request: s.request, response: { status: s.status } },
    anomalies: [...s.anomalies],
  };
  if (error !== undefined) tx.error = error;
  if (tx.protocol === 'grpc') {
    const path = s.request.path;
    const slash = path.lastIndexOf('/');
    const grpc: GrpcInfo = {
      service: slash > 0 ? path.slice(1, slash) : '',
      method: slash >= 0 ? path.slice(slash + 1) : path,
    };
    if (s.request.host !== undefined) grpc.authority = s.request.host;
    if (s.contentType !== undefined) grpc.contentType = s.contentType;
    const status = s.grpcStatus ?? (error === 'stream_reset' ? GRPC_CANCELLED : undefined);
    if (status !== undefined) grpc.status = status;
    if (s.grpcMessage !== undefined) grpc.message = s.grpcMessage;
    tx.grpc = grpc;
  }
  return tx;
}
