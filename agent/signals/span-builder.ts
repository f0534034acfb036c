// Transaction → span + metric record. Pure apart from the route registry:
// bytes-derived objects in, span objects out; the caller decides ids/linking and where they go.
import type { Attributes } from '@opentelemetry/api';
import type { Transaction } from '../protocols/transaction.js';
import type { BootClock } from './boot-clock.js';
import type { ProcessIdentity } from './process-resource.js';
import { redactPath, redactQuery, buildFullUrl, stripHostUserinfo } from './redaction.js';
import type { RouteRegistry } from './route-template.js';
import type { LabelCap } from './label-cap.js';
import { DECODE_INCOMPLETE, GRPC_SERVER_ERROR_CODES, HTTP_METHODS, METRIC, RPC_STATUS_CODE, grpcCodeName, type MetricName } from '../../common/semconv/semconv.js';
import { SpanKind, TxSpan } from './tx-span.js';
import { parseTraceparent, type CarriedContext } from './trace-context.js';
import { addNatPeer, type NatLookup } from '../conntrack/nat-span-attributes.js';

export interface MetricRecord {
  name: MetricName;
  seconds: number;
  attributes: Attributes;
}

export interface BuiltSignals {
  span: TxSpan;
  metric: MetricRecord;
  /** W3C context the request carried, if any. */
  carried?: CarriedContext;
  /** Route (HTTP) or method (gRPC) or qtype (DNS), for the live view. */
  operation: string;
  isError: boolean;
  /** A client span whose NAT lookup missed (only when a NAT table is configured): worth a late retry. */
  natMiss?: boolean;
  /** Attributes whose value could not be decoded from the captured bytes (also on the span as DECODE_INCOMPLETE). */
  incomplete?: string[];
  /** Set when the outcome is unknown because the capture lost bytes (never an application error). */
  lost?: IncompleteReason;
}

export type IncompleteReason = 'capture_gap';

/** Span attribute (boolean) on spans whose outcome the capture lost; such spans carry no error. */
export const ATTR_CAPTURE_INCOMPLETE = 'sockeye.capture.incomplete';

/** No outcome seen, and bytes of the exchange were lost by the capture (ring full, stream gap, or
 *  capture started mid-connection): whatever happened, we cannot call it the application's error. */
function captureIncomplete(tx: Transaction): IncompleteReason | undefined {
  if (tx.error === 'stream_reset') return undefined; // a reset was seen: that is the outcome
  if (tx.error === 'gap' || tx.anomalies.includes('gap') || tx.anomalies.includes('midstream')) return 'capture_gap';
  return undefined;
}

export type SkipReason = 'unknown_role' | 'dns_server_side' | 'incomplete';

export class SpanBuilder {
  /** `nat`: where DNATed client connections really went (one map lookup per client span; docs/nat.md). */
  constructor(private readonly clock: BootClock, private readonly routes: RouteRegistry, private readonly nat?: NatLookup,
    private readonly labels?: LabelCap) {}

  /** A metric label value from the wire, bounded per service (spans keep the real value). */
  private wire(who: ProcessIdentity, attribute: string, value: string): string {
    return this.labels ? this.labels.bound(who.serviceName, attribute, value) : value;
  }

  build(tx: Transaction, who: ProcessIdentity): BuiltSignals | SkipReason {
    if (tx.role === 'unknown') return 'unknown_role';
    if (tx.protocol === 'dns') return tx.role === 'client' && tx.dns ? this.dns(tx, who) : tx.dns ? 'dns_server_side' : 'incomplete';
    if (tx.protocol === 'grpc' && tx.grpc) return this.grpc(tx, who);
    if (tx.http) return this.http(tx, who);
    return 'incomplete';
  }

  /** True when conntrack has not told us about this connection yet (worth a late retry). */
  private natMiss(t: Transaction['tuple'], a: Attributes): boolean | undefined {
    return this.nat ? addNatPeer(this.nat, t, a) === 'unknown' : undefined;
  }

  private span(tx: Transaction, name: string, kind: SpanKind, attrs: Attributes, who: ProcessIdentity): TxSpan {
    const dur = Math.max(0, tx.endNs - tx.startNs);
    return new TxSpan(name, kind, this.clock.toHrTime(tx.startNs), this.clock.toHrTime(tx.startNs + dur), dur, attrs, who.resource);
  }

  private http(tx: Transaction, who: ProcessIdentity): BuiltSignals {
    const req = tx.http!.request;
    const status = tx.http!.response?.status;
    const server = tx.role === 'server';
    const known = HTTP_METHODS.has(req.method);
    const method = known ? req.method : OTHER;
    const version = req.version === '2' || tx.protocol === 'http2' ? '2' : req.version;
    const scheme = req.scheme ?? 'http';
    const a: Attributes = { 'http.request.method': method };
    const m: Attributes = { 'http.request.method': method, 'network.protocol.version': version };
    const incomplete: string[] = [];
    if (req.method === '') incomplete.push('http.request.method');
    else if (!known) a['http.request.method_original'] = req.method;
    const target = server ? this.httpServerTarget(tx, who, scheme, a, m, incomplete) : this.httpClientTarget(tx, who, scheme, a, m, incomplete);
    const natMiss = server ? undefined : this.natMiss(tx.tuple, a);
    // Semconv names: `{method} {route}`, `{method}` without a route, `HTTP` for an unknown method.
    const name = !known ? 'HTTP' : server && target !== '' ? `${method} ${target}` : method;
    a['network.peer.address'] = tx.tuple.remoteAddr;
    a['network.peer.port'] = tx.tuple.remotePort;
    a['network.protocol.version'] = version;
    if (req.userAgent) a['user_agent.original'] = req.userAgent;
    markIncomplete(a, incomplete);
    const span = this.span(tx, name, server ? SpanKind.SERVER : SpanKind.CLIENT, a, who);
    const lost = status === undefined ? captureIncomplete(tx) : undefined;
    if (lost) a[ATTR_CAPTURE_INCOMPLETE] = true;
    const isError = !lost && httpStatus(status, tx, server, span, m);
    if (isError) m['error.type'] = span.attributes['error.type'] as string;
    const seconds = span.durationNs / 1e9;
    const carried = parseTraceparent(req.traceparent);
    return { span, carried, isError, lost, natMiss, operation: target === '' ? name : `${method} ${target}`,
      metric: { name: server ? METRIC.httpServer : METRIC.httpClient, seconds, attributes: m }, ...withIncomplete(incomplete) };
  }

  /** Server side: route (templated path), path, query, scheme, ports. Returns the route ('' when the path is unknown). */
  private httpServerTarget(tx: Transaction, who: ProcessIdentity, scheme: string, a: Attributes, m: Attributes, incomplete: string[]): string {
    const req = tx.http!.request;
    const t = tx.tuple;
    const route = req.path === '' ? '' : this.routes.route(who.serviceName, req.path);
    if (route === '') incomplete.push('url.path');
    else a['url.path'] = redactPath(req.path);
    if (route !== '' && req.query) a['url.query'] = redactQuery(req.query);
    a['url.scheme'] = scheme;
    if (route !== '') a['http.route'] = route;
    a['server.port'] = t.localPort;
    if (req.host) a['server.address'] = hostOnly(req.host);
    a['client.address'] = t.remoteAddr;
    if (route !== '') m['http.route'] = route;
    m['url.scheme'] = scheme;
    return route;
  }

  /** Client side: server address and port, full URL. Returns the server host (for the live view). */
  private httpClientTarget(tx: Transaction, who: ProcessIdentity, scheme: string, a: Attributes, m: Attributes, incomplete: string[]): string {
    const req = tx.http!.request;
    const t = tx.tuple;
    const host = req.host ?? hostPort(t.remoteAddr, t.remotePort);
    a['server.address'] = hostOnly(host);
    a['server.port'] = t.remotePort;
    if (req.target === '') incomplete.push('url.full');
    else a['url.full'] = buildFullUrl(scheme, host, req.target);
    m['server.address'] = this.wire(who, 'server.address', hostOnly(host));
    m['server.port'] = t.remotePort;
    return hostOnly(host);
  }

  private grpc(tx: Transaction, who: ProcessIdentity): BuiltSignals {
    const g = tx.grpc!;
    const server = tx.role === 'server';
    const t = tx.tuple;
    const incomplete: string[] = [];
    // rpc.method is package.Service/Method; anything else is _OTHER and the span is named `grpc`.
    const valid = g.service !== '' && g.method !== '';
    const rpcMethod = valid ? `${g.service}/${g.method}` : OTHER;
    const a: Attributes = { 'rpc.system.name': 'grpc', 'rpc.method': rpcMethod };
    if (g.service === '' && g.method === '') incomplete.push('rpc.method'); // no :path decoded
    else if (!valid) a['rpc.method_original'] = tx.http?.request.path ?? `${g.service}/${g.method}`;
    let natMiss: boolean | undefined;
    const m: Attributes = { 'rpc.system.name': 'grpc', 'rpc.method': this.wire(who, 'rpc.method', rpcMethod) };
    if (server) {
      a['server.port'] = t.localPort;
      a['client.address'] = t.remoteAddr;
    } else {
      a['server.address'] = g.authority ? hostOnly(g.authority) : t.remoteAddr;
      a['server.port'] = t.remotePort;
      m['server.address'] = this.wire(who, 'server.address', a['server.address'] as string);
      m['server.port'] = t.remotePort;
      natMiss = this.natMiss(t, a);
    }
    a['network.peer.address'] = t.remoteAddr;
    a['network.peer.port'] = t.remotePort;
    a['network.protocol.version'] = '2';
    markIncomplete(a, incomplete);
    const name = valid ? rpcMethod : 'grpc';
    const span = this.span(tx, name, server ? SpanKind.SERVER : SpanKind.CLIENT, a, who);
    const lost = g.status === undefined ? captureIncomplete(tx) : undefined;
    if (lost) a[ATTR_CAPTURE_INCOMPLETE] = true;
    const isError = !lost && grpcStatus(g, tx, server, span, a, m);
    if (isError) m['error.type'] = span.attributes['error.type'] as string;
    const traceparent = tx.http?.request.traceparent;
    return { span, carried: parseTraceparent(traceparent), isError, lost, natMiss, operation: name,
      metric: { name: server ? METRIC.rpcServer : METRIC.rpcClient, seconds: span.durationNs / 1e9, attributes: m }, ...withIncomplete(incomplete) };
  }

  private dns(tx: Transaction, who: ProcessIdentity): BuiltSignals {
    const d = tx.dns!;
    const t = tx.tuple;
    const a: Attributes = {
      'server.address': t.remoteAddr,
      'server.port': t.remotePort,
      'network.peer.address': t.remoteAddr,
      'network.peer.port': t.remotePort,
      'network.transport': t.transport,
    };
    const m: Attributes = {};
    const incomplete: string[] = [];
    if (d.qname !== '') { a['dns.question.name'] = d.qname; m['dns.question.name'] = this.wire(who, 'dns.question.name', d.qname); } else incomplete.push('dns.question.name');
    if (d.qtype !== '') a['dns.question.type'] = d.qtype; else incomplete.push('dns.question.type');
    const natMiss = this.natMiss(t, a);
    if (d.rcode) a['dns.response_code'] = d.rcode;
    if (d.answers?.length) a['dns.answers'] = d.answers.map((x) => x.data);
    markIncomplete(a, incomplete);
    const name = d.qtype !== '' ? `DNS ${d.qtype}` : 'DNS';
    const span = this.span(tx, name, SpanKind.CLIENT, a, who);
    let isError = false;
    const lost = d.rcode ? undefined : captureIncomplete(tx);
    if (lost) {
      a[ATTR_CAPTURE_INCOMPLETE] = true;
    } else if (!d.rcode) {
      // Unanswered: whether our request timeout fired or the client gave up and closed its
      // socket first, the lookup timed out (error.type = timeout).
      span.setError('timeout');
      isError = true;
    } else if (d.rcode !== 'NOERROR') {
      span.setError(d.rcode);
      isError = true;
    }
    if (isError) m['error.type'] = span.attributes['error.type'] as string;
    return { span, isError, lost, natMiss, operation: name,
      metric: { name: METRIC.dnsLookup, seconds: span.durationNs / 1e9, attributes: m }, ...withIncomplete(incomplete) };
  }
}

/** semconv's value for a method that is not a known one (or could not be decoded). */
const OTHER = '_OTHER';

/** Names the attributes that could not be decoded (docs/agent.md, "Honest names"). */
function markIncomplete(a: Attributes, incomplete: string[]): void {
  if (incomplete.length > 0) a[DECODE_INCOMPLETE] = incomplete;
}

function withIncomplete(incomplete: string[]): { incomplete?: string[] } {
  return incomplete.length > 0 ? { incomplete } : {};
}

/** Status attribute and error of an HTTP span (5xx on both sides, 4xx on clients); returns whether it is an error. */
function httpStatus(status: number | undefined, tx: Transaction, server: boolean, span: TxSpan, m: Attributes): boolean {
  if (status === undefined) {
    span.setError(tx.error ?? 'incomplete');
    return true;
  }
  span.attributes['http.response.status_code'] = status;
  m['http.response.status_code'] = status;
  if (status >= 500 || (!server && status >= 400)) {
    span.setError(String(status));
    return true;
  }
  return false;
}

/** Status attributes and error of a gRPC span; returns whether it is an error. */
function grpcStatus(g: NonNullable<Transaction['grpc']>, tx: Transaction, server: boolean, span: TxSpan, a: Attributes, m: Attributes): boolean {
  if (g.status !== undefined) {
    const code = grpcCodeName(g.status);
    a[RPC_STATUS_CODE] = code;
    m[RPC_STATUS_CODE] = code;
    if (g.status !== 0 && (!server || GRPC_SERVER_ERROR_CODES.has(g.status))) {
      span.setError(code, g.message);
      return true;
    }
    return false;
  }
  // No grpc-status: a reset stream is CANCELLED; otherwise the exchange is incomplete.
  const code = tx.error === 'stream_reset' ? 'CANCELLED' : undefined;
  if (code) { a[RPC_STATUS_CODE] = code; m[RPC_STATUS_CODE] = code; }
  span.setError(code ?? tx.error ?? 'incomplete');
  return true;
}

function hostOnly(raw: string): string {
  const host = stripHostUserinfo(raw);
  if (host.startsWith('[')) return host.slice(1, host.indexOf(']') > 0 ? host.indexOf(']') : undefined);
  const c = host.lastIndexOf(':');
  return c > 0 && host.indexOf(':') === c ? host.slice(0, c) : host;
}

function hostPort(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}
