// DNS parser for one socket: UDP (one message per datagram) or TCP (2-byte length framing, several
// messages per read or one split over many). Queries and responses are told apart by the QR bit, not
// by direction, and paired by peer address/port + transaction id: an unconnected UDP socket talks to
// many peers under one connection id. Unanswered queries end as 'timeout' after the bounded wait.
// Role: the kernel's when it named one; otherwise the query's direction tells (sent: client).
import type { CloseEvent, DataEvent, Direction, GapEvent, Role, SocketTuple } from '../../capture/capture-events.js';
import type { ConnectionParser, ParserSink } from '../protocol-parser.js';
import type { DnsInfo, TransactionError } from '../transaction.js';
import type { ConnectionInfo } from '../engine/parser-registry.js';
import { defaultEngineOptions, type EngineOptions } from '../engine/engine-options.js';
import { DNS_HEADER_LEN, decodeDnsMessage, type DnsMessage } from './dns-message.js';

interface PendingQuery {
  key: string;
  startNs: number;
  requestBytes: number;
  tuple: SocketTuple;
  /** Direction the query went: its QR bit said query, so egress means we are the client. */
  dir: Direction;
  info: DnsInfo;
  anomalies: string[];
}

/** Reassembles 2-byte length-prefixed messages from one TCP direction. */
class TcpFramer {
  private buf = new Uint8Array(0);
  private have = 0;
  /** Bytes of the current message still to skip after a capped or lost part. */
  private skip = 0;
  /** Lost sync (bytes lost across a length prefix): wait for an event that starts with a message. */
  private lost = false;

  constructor(private readonly maxMessage: number) {}

  get buffered(): number { return this.have; }

  /** Returns complete (or cut short, `partial`) messages in b. */
  push(b: Uint8Array, total: number, out: { msg: Uint8Array; partial: boolean; size: number }[], sink: ParserSink): void {
    let p = 0;
    if (this.lost) {
      if (!plausibleTcpStart(b)) { sink.count('dns_resync_skipped_bytes', total); return; }
      this.lost = false; this.have = 0; this.skip = 0;
      sink.count('dns_resyncs');
    }
    while (p < b.length) {
      if (this.skip > 0) { const n = Math.min(this.skip, b.length - p); this.skip -= n; p += n; continue; }
      if (this.have < 2) {
        if (this.buf.length < 2) this.buf = new Uint8Array(512);
        this.buf[this.have++] = b[p++]!;
        continue;
      }
      const len = (this.buf[0]! << 8) | this.buf[1]!;
      if (len < DNS_HEADER_LEN || len > this.maxMessage) {
        sink.count('dns_parse_errors');
        this.have = 0; this.lost = true;
        sink.count('dns_resync_skipped_bytes', b.length - p);
        return;
      }
      if (this.have === 2 && b.length - p >= len) { // whole message here: no copy
        out.push({ msg: b.subarray(p, p + len), partial: false, size: len + 2 });
        p += len; this.have = 0;
        continue;
      }
      if (this.buf.length < len + 2) { const nb = new Uint8Array(len + 2); nb.set(this.buf.subarray(0, this.have)); this.buf = nb; }
      const n = Math.min(len + 2 - this.have, b.length - p);
      this.buf.set(b.subarray(p, p + n), this.have);
      this.have += n; p += n;
      if (this.have === len + 2) { out.push({ msg: this.buf.slice(2, len + 2), partial: false, size: len + 2 }); this.have = 0; }
    }
    if (total > b.length) this.lose(total - b.length, out, sink);
  }

  /** n stream bytes will never arrive: finish the current message as partial, skip by count. */
  lose(n: number, out: { msg: Uint8Array; partial: boolean; size: number }[], sink: ParserSink): void {
    if (this.skip > 0) {
      const k = Math.min(this.skip, n); this.skip -= k; n -= k;
      if (n === 0) return;
    }
    if (this.have >= 2) {
      const len = (this.buf[0]! << 8) | this.buf[1]!;
      const rest = len + 2 - this.have;
      out.push({ msg: this.buf.slice(2, this.have), partial: true, size: len + 2 });
      this.have = 0;
      if (n < rest) { this.skip = rest - n; return; }
      n -= rest;
      if (n === 0) return;
    }
    if (n > 0) { this.have = 0; this.lost = true; sink.count('dns_desyncs'); }
  }
}

/** A TCP read that starts a DNS message: sane length, one question, standard query opcode. */
function plausibleTcpStart(b: Uint8Array): boolean {
  if (b.length < 2 + DNS_HEADER_LEN) return false;
  const len = (b[0]! << 8) | b[1]!;
  return len >= DNS_HEADER_LEN + 5 && ((b[4]! >> 3) & 0xf) === 0 && b[6] === 0 && b[7] === 1;
}

export class DnsParser implements ConnectionParser {
  private readonly pending = new Map<string, PendingQuery>();
  private readonly framers: Record<Direction, TcpFramer> | undefined;
  private readonly timeoutNs: number;
  private readonly maxPending: number;
  private role: Role;

  constructor(private readonly conn: ConnectionInfo, private readonly sink: ParserSink, opts: EngineOptions = defaultEngineOptions) {
    this.role = conn.role;
    this.timeoutNs = opts.requestTimeoutNs;
    this.maxPending = opts.maxPendingRequests;
    if (conn.tuple.transport === 'tcp') {
      const max = Math.min(65535, opts.maxBufferedBytesPerConnection);
      this.framers = { egress: new TcpFramer(max), ingress: new TcpFramer(max) };
    }
  }

  onData(ev: DataEvent): void {
    if (this.framers === undefined) {
      const capped = ev.totalBytes > ev.bytes.length;
      this.message(ev, ev.bytes, capped, ev.totalBytes);
      return;
    }
    const out: { msg: Uint8Array; partial: boolean; size: number }[] = [];
    this.framers[ev.direction].push(ev.bytes, ev.totalBytes, out, this.sink);
    for (const m of out) this.message(ev, m.msg, m.partial, m.size);
  }

  onGap(ev: GapEvent): void {
    this.sink.count('dns_gaps');
    if (this.framers === undefined) {
      // Lost datagrams: a waiting query's answer may be among them, so its timeout says nothing
      // about the server (marked, so it is not reported as the application's error).
      for (const q of this.pending.values()) if (!q.anomalies.includes('gap')) q.anomalies.push('gap');
      return;
    }
    const out: { msg: Uint8Array; partial: boolean; size: number }[] = [];
    this.framers[ev.direction].lose(ev.lostBytes > 0 ? ev.lostBytes : Number.MAX_SAFE_INTEGER, out, this.sink);
    for (const m of out) this.message({ ...ev, kind: 'data', bytes: m.msg, totalBytes: m.size, offset: 0, syscall: '' }, m.msg, true, m.size);
  }

  onClose(ev: CloseEvent): void {
    for (const q of [...this.pending.values()]) this.finish(q, ev.tsNs, 'connection_closed');
  }

  onTick(nowNs: number): void {
    for (const q of [...this.pending.values()]) {
      if (nowNs - q.startNs > this.timeoutNs) { this.sink.count('dns_timeouts'); this.finish(q, nowNs, 'timeout'); }
    }
  }

  bufferedBytes(): number {
    return this.framers === undefined ? 0 : this.framers.egress.buffered + this.framers.ingress.buffered;
  }

  get pendingQueries(): number { return this.pending.size; }

  onRole(role: 'client' | 'server'): void {
    this.role = role;
  }

  private message(ev: DataEvent, bytes: Uint8Array, partial: boolean, size: number): void {
    const m = decodeDnsMessage(bytes);
    if (m === undefined) { this.sink.count(partial ? 'dns_capture_truncated' : 'dns_parse_errors'); return; }
    if (m.incomplete) this.sink.count(partial ? 'dns_capture_truncated' : 'dns_parse_errors');
    // UDP on an unconnected socket: the event's tuple names this datagram's peer.
    const key = `${ev.tuple.remoteAddr}|${ev.tuple.remotePort}|${m.id}`;
    if (!m.response) this.query(ev, m, key, size, partial);
    else this.response(ev, m, key, size, partial);
  }

  private query(ev: DataEvent, m: DnsMessage, key: string, size: number, partial: boolean): void {
    if (this.pending.has(key)) { this.sink.count('dns_retransmits'); return; } // latency from the first send
    if (this.pending.size >= this.maxPending) {
      this.sink.count('dns_pending_dropped');
      const oldest = this.pending.values().next().value as PendingQuery;
      oldest.anomalies.push('pending_table_full');
      this.finish(oldest, ev.tsNs, 'timeout');
    }
    const info: DnsInfo = { id: m.id, qname: m.qname ?? '', qtype: m.qtype ?? '', qclass: m.qclass ?? '' };
    const anomalies: string[] = [];
    if (m.incomplete || partial) anomalies.push('dns_query_incomplete');
    if (m.qdcount !== 1) anomalies.push('dns_qdcount');
    this.pending.set(key, { key, startNs: ev.tsNs, requestBytes: size, tuple: ev.tuple, dir: ev.direction, info, anomalies });
  }

  private response(ev: DataEvent, m: DnsMessage, key: string, size: number, partial: boolean): void {
    const q = this.pending.get(key);
    if (q === undefined) { this.sink.count('dns_unpaired_responses'); return; }
    if (m.qname !== undefined && q.info.qname !== '' && m.qname.toLowerCase() !== q.info.qname.toLowerCase()) {
      // Same id, different question: not the answer to this query (id collision); never pair wrongly.
      this.sink.count('dns_mismatched_responses');
      return;
    }
    if (q.info.qname === '' && m.qname !== undefined) { q.info.qname = m.qname; q.info.qtype = m.qtype ?? ''; q.info.qclass = m.qclass ?? ''; }
    q.info.rcode = m.rcode;
    q.info.answers = m.answers;
    if (m.truncated) q.info.truncated = true;
    if (m.incomplete || partial) q.anomalies.push('dns_response_incomplete');
    this.finish(q, ev.tsNs, undefined, size);
  }

  private finish(q: PendingQuery, endNs: number, error: TransactionError | undefined, responseBytes = 0): void {
    if (!this.pending.delete(q.key)) return;
    this.sink.emit({
      protocol: 'dns', connId: this.conn.connId, role: this.role !== 'unknown' ? this.role : q.dir === 'egress' ? 'client' : 'server', tuple: q.tuple, process: this.conn.process,
      startNs: q.startNs, endNs, requestBytes: q.requestBytes, responseBytes,
      dns: q.info, anomalies: q.anomalies, ...(error !== undefined ? { error } : {}),
    });
  }
}

/** ParserFactory for the engine's registry. */
export function createDnsParser(conn: ConnectionInfo, sink: ParserSink, options: EngineOptions): DnsParser {
  return new DnsParser(conn, sink, options);
}
