// Trace ids and parents for spans. A carried W3C traceparent wins: the server span joins that
// trace under the carried parent; the client span takes the carried trace id and span id (the
// instrumented caller made that id for this very request, so the server span pairs with it).
// Without traceparent, when both ends of one connection are on this node, the server span is
// parented to the client span: the same exchange is keyed by the client→server tuple plus the
// request's sequence number on the connection (HTTP/1.1) or its stream id (HTTP/2). The server
// side usually completes first (it writes the response before the client reads it), so server
// spans whose peer could be local wait up to `waitMs` for their client side.
import type { Transaction } from '../protocols/transaction.js';
import type { CarriedContext } from './trace-context.js';
import { newSpanId, newTraceId } from './trace-context.js';
import type { TxSpan } from './tx-span.js';

export interface LinkerCounters {
  linked: number;
  waitedUnlinked: number;
  adoptedTraceparent: number;
}

interface Pending { span: TxSpan; deadline: number }
/** A client span just emitted: its ids, and its trace's sampling decision for the server side to share. */
interface Recent { traceId: string; spanId: string; expires: number; sampled: boolean | undefined; traceState: TxSpan['traceState'] }

/** 127.0.0.0/8 or ::1, without a regex per transaction. */
export function isLoopbackText(addr: string): boolean {
  return addr.charCodeAt(0) === 49 ? addr.startsWith('127.') : addr === '::1';
}

export class PeerLinker {
  readonly counters: LinkerCounters = { linked: 0, waitedUnlinked: 0, adoptedTraceparent: 0 };
  private readonly pendingServers = new Map<string, Pending>();
  private readonly recentClients = new Map<string, Recent>();
  /** Exchange sequence per connection id, one map per side (numeric keys). */
  private readonly seqClient = new Map<number, { n: number; seen: number }>();
  private readonly seqServer = new Map<number, { n: number; seen: number }>();
  /** Addresses processes on this node were seen using as their local address. */
  private readonly localAddrs = new Set<string>();

  constructor(private readonly emit: (span: TxSpan) => void, private readonly waitMs = 300, private readonly now = () => Date.now()) {}

  offer(tx: Transaction, span: TxSpan, carried: CarriedContext | undefined): void {
    const now = this.now();
    if (this.localAddrs.size < 4096) this.localAddrs.add(tx.tuple.localAddr);
    if (carried) {
      this.counters.adoptedTraceparent++;
      if (span.kind === 1 /* SERVER */) {
        span.setParent(carried.traceId, carried.spanId);
        span.spanId = newSpanId();
      } else {
        span.traceId = carried.traceId;
        span.spanId = carried.spanId;
      }
      this.emit(span);
      return;
    }
    span.spanId = newSpanId();
    if (tx.protocol === 'dns' || tx.tuple.transport !== 'tcp') {
      span.traceId = newTraceId();
      this.emit(span);
      return;
    }
    const key = this.exchangeKey(tx, now);
    if (tx.role === 'client') {
      span.traceId = newTraceId();
      const waiting = this.pendingServers.get(key);
      if (waiting) {
        this.pendingServers.delete(key);
        waiting.span.setParent(span.traceId, span.spanId);
        this.counters.linked++;
        this.emit(span);
        waiting.span.sampled = span.sampled;
        waiting.span.traceState = span.traceState;
        this.emit(waiting.span);
        return;
      }
      this.emit(span); // decides the trace's sampling first: the server side shares that decision
      this.recentClients.set(key, { traceId: span.traceId, spanId: span.spanId, expires: now + this.waitMs * 4, sampled: span.sampled, traceState: span.traceState });
      return;
    }
    const client = this.recentClients.get(key);
    if (client) {
      this.recentClients.delete(key);
      span.setParent(client.traceId, client.spanId);
      span.sampled = client.sampled;
      span.traceState = client.traceState;
      this.counters.linked++;
      this.emit(span);
      return;
    }
    span.traceId = newTraceId();
    if (this.waitMs > 0 && this.peerMayBeLocal(tx.tuple.remoteAddr)) {
      this.pendingServers.set(key, { span, deadline: now + this.waitMs });
      return;
    }
    this.emit(span);
  }

  /** Emits server spans whose client side did not show up in time; drops stale bookkeeping. */
  tick(now = this.now()): void {
    for (const [k, p] of this.pendingServers) {
      if (p.deadline > now) continue;
      this.pendingServers.delete(k);
      this.counters.waitedUnlinked++;
      this.emit(p.span);
    }
    for (const [k, r] of this.recentClients) if (r.expires <= now) this.recentClients.delete(k);
    const idle = now - 60_000;
    for (const m of [this.seqClient, this.seqServer]) for (const [k, s] of m) if (s.seen < idle) m.delete(k);
  }

  /** The connection closed: no exchange of it can follow, so its sequence counter goes now
   *  instead of after 60 s idle (100k short connections otherwise held 100k entries). */
  forget(connId: number): void {
    this.seqClient.delete(connId);
    this.seqServer.delete(connId);
  }

  /** Per-connection sequence counters held (self-telemetry, tests). */
  get trackedConnections(): number {
    return this.seqClient.size + this.seqServer.size;
  }

  /** Emits everything still waiting (shutdown). */
  flush(): void {
    this.tick(Infinity);
  }

  get pending(): number {
    return this.pendingServers.size;
  }

  private peerMayBeLocal(addr: string): boolean {
    return isLoopbackText(addr) || this.localAddrs.has(addr);
  }

  private exchangeKey(tx: Transaction, now: number): string {
    const t = tx.tuple;
    const conn = tx.role === 'client'
      ? `${t.localAddr}:${t.localPort}>${t.remoteAddr}:${t.remotePort}`
      : `${t.remoteAddr}:${t.remotePort}>${t.localAddr}:${t.localPort}`;
    if (tx.streamId !== undefined) return `${conn}#s${tx.streamId}`;
    // HTTP/1.1: the nth exchange on the client side is the nth on the server side.
    const seq = tx.role === 'client' ? this.seqClient : this.seqServer;
    const s = seq.get(tx.connId);
    const n = s ? s.n + 1 : 0;
    if (s) { s.n = n; s.seen = now; } else seq.set(tx.connId, { n, seen: now });
    return `${conn}#${n}`;
  }
}
