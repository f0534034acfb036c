// What the protocol engine emits: one request/response exchange, paired. This is the contract
// between agent/protocols/ (engine) and agent/signals/ (spans and metrics).
import type { ProcessInfo, Role, SocketTuple } from '../capture/capture-events.js';

export type TransactionProtocol = 'http1' | 'http2' | 'grpc' | 'dns';

/** Why a transaction ended without a normal response. */
export type TransactionError =
  | 'timeout'            // no response within the bounded wait
  | 'connection_closed'  // the connection closed before the response completed
  | 'stream_reset'       // HTTP/2 RST_STREAM (gRPC: CANCELLED)
  | 'gap';               // capture lost bytes mid-exchange; what we have is partial

export interface HttpRequestInfo {
  method: string;
  /** Request target as sent (origin-form path?query, or absolute-form). */
  target: string;
  path: string;
  query?: string;
  host?: string;
  scheme?: 'http' | 'https';
  userAgent?: string;
  contentLength?: number;
  traceparent?: string;
  tracestate?: string;
  /** '1.0' | '1.1' | '2' */
  version: string;
  /** Header names present (lower-case), for redaction-aware consumers; values of these are not kept. */
  sensitiveHeaders?: string[];
}

export interface HttpResponseInfo {
  status: number;
}

export interface GrpcInfo {
  /** package.Service */
  service: string;
  method: string;
  authority?: string;
  contentType?: string;
  /** grpc-status from trailers or Trailers-Only; undefined when never seen. */
  status?: number;
  message?: string;
}

export interface DnsAnswer {
  name: string;
  type: string;
  ttl: number;
  /** Address for A/AAAA, target name for CNAME, raw text otherwise. */
  data: string;
}

export interface DnsInfo {
  id: number;
  qname: string;
  qtype: string;
  qclass: string;
  rcode?: string;
  answers?: DnsAnswer[];
  truncated?: boolean;
}

export interface Transaction {
  protocol: TransactionProtocol;
  connId: number;
  role: Role;
  tuple: SocketTuple;
  process: ProcessInfo;
  /** HTTP/2 stream id, when applicable. */
  streamId?: number;
  /** First byte of the request, last byte of the response: ns since boot. */
  startNs: number;
  endNs: number;
  requestBytes: number;
  responseBytes: number;
  http?: { request: HttpRequestInfo; response?: HttpResponseInfo };
  grpc?: GrpcInfo;
  dns?: DnsInfo;
  error?: TransactionError;
  /** Non-fatal oddities seen while parsing (degraded headers, resync, ...). */
  anomalies: string[];
}
