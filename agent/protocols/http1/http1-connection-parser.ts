// HTTP/1.x for one connection: two framing streams (one per direction), the request queue, and
// pairing. Pairing is strictly in order (HTTP/1.1 answers requests in order), and every loss of
// framing is handled so that a response is never paired with the wrong request:
//  - a loss inside a known-length body is skipped by count and changes nothing;
//  - a loss in the response direction, or response bytes skipped while resynchronising, ends the
//    waiting requests as 'gap' (their responses may have been in those bytes) — late responses then
//    meet an empty queue and are counted;
//  - a loss in the request direction keeps the queue (responses still come in order);
//  - a response whose request is unknown is not framed by guess (it may answer a HEAD);
//  - once a connection is known to pipeline, a loss may hide whole messages, so the connection stops
//    pairing ('unsynced': requests end as 'gap', responses are counted) until it closes; evidence of
//    pipelining after a loss (a message found inside a read, a request while others wait) does too;
//  - a request that times out leaves a response owed: the next response is skipped, not mispaired;
//    owed responses are bounded (maxPendingRequests): one more and the connection stops pairing.
// docs/protocols.md lists the rules with their counters.
import type { CloseEvent, DataEvent, Direction, GapEvent } from '../../capture/capture-events.js';
import type { ConnectionParser, SwitchingParserSink } from '../protocol-parser.js';
import type { HttpRequestInfo, Transaction, TransactionError } from '../transaction.js';
import type { EngineOptions } from '../engine/engine-options.js';
import type { ConnectionInfo } from '../engine/parser-registry.js';
import type { Http1Head } from './http1-head.js';
import { Body, Http1Stream, type StreamOwner } from './http1-stream.js';

/** Shared until a connection first owes a response (most never do). */
const NONE_OWED: boolean[] = [];

interface PendingRequest {
  info: HttpRequestInfo;
  startNs: number;
  startPos: number;
  /** True size once the request message is complete. */
  bytes: number;
  complete: boolean;
  isHead: boolean;
  isConnect: boolean;
  upgrade: string;
  anomalies: string[];
}

export class Http1ConnectionParser implements ConnectionParser, StreamOwner {
  private readonly egress: Http1Stream;
  private readonly ingress: Http1Stream;
  private requestDir: Direction | undefined;
  private readonly queue: PendingRequest[] = [];
  /** The request whose message (body) is being read. */
  private reading: PendingRequest | undefined;
  /** The response whose body is being read, paired already (undefined: being skipped). */
  private inflight: Transaction | undefined;
  private inflightStartPos = 0;
  /** Responses still owed to requests we already ended (timeout, bound), skipped when they come; true: a HEAD. */
  private owed: boolean[] = NONE_OWED;
  private pipelined = false;
  private lossSeen = false;
  /** Request bytes were lost since the queue was last empty: requests may hide between waiting ones. */
  private requestLossPending = false;
  private unsynced = false;

  constructor(private readonly conn: ConnectionInfo, private readonly sink: SwitchingParserSink, private readonly options: EngineOptions) {
    this.egress = new Http1Stream('egress', this, options.maxHeaderBytes, options.maxHeaderCount);
    this.ingress = new Http1Stream('ingress', this, options.maxHeaderBytes, options.maxHeaderCount);
    if (conn.role === 'client') this.setRequestDir('egress');
    else if (conn.role === 'server') this.setRequestDir('ingress');
  }

  count(counter: string, n = 1): void {
    this.sink.count(counter, n);
  }

  onData(ev: DataEvent): void {
    (ev.direction === 'egress' ? this.egress : this.ingress).feed(ev);
  }

  onGap(ev: GapEvent): void {
    this.count('http1_gaps');
    (ev.direction === 'egress' ? this.egress : this.ingress).gap(ev.lostBytes, ev.tsNs);
  }

  onClose(ev: CloseEvent): void {
    this.egress.close(ev.tsNs);
    this.ingress.close(ev.tsNs);
    if (this.inflight !== undefined) this.finishInflight(ev.tsNs, -1, 'connection_closed');
    this.endQueued(ev.tsNs, 'connection_closed');
    if (this.egress.midHead || this.ingress.midHead) this.count('http1_incomplete_heads_at_close');
  }

  onTick(nowNs: number): void {
    const limit = nowNs - this.options.requestTimeoutNs;
    // A response whose body stopped arriving is reported rather than held until the connection ends.
    if (this.inflight !== undefined && this.requestDir !== undefined) {
      const resp = this.requestDir === 'egress' ? this.ingress : this.egress;
      if (resp.lastNs < limit) {
        this.count('http1_response_timeouts');
        this.finishInflight(nowNs, -1, 'timeout', 'response_incomplete');
      }
    }
    while (this.queue.length > 0 && this.queue[0]!.startNs < limit) {
      const req = this.queue.shift()!;
      if (req === this.reading) this.reading = undefined;
      this.count('http1_timeouts');
      this.emitError(req, nowNs, 'timeout');
      this.owe(req.isHead, nowNs);
    }
  }

  bufferedBytes(): number {
    return this.egress.bufferedBytes() + this.ingress.bufferedBytes();
  }

  onRole(role: 'client' | 'server'): void {
    const dir: Direction = role === 'client' ? 'egress' : 'ingress';
    if (this.requestDir === undefined) this.setRequestDir(dir);
    else if (this.requestDir !== dir) this.count('http1_role_disagreements'); // a parsed start line said otherwise: keep that
  }

  // ---- StreamOwner ----

  onHead(stream: Http1Stream, head: Http1Head, ev: DataEvent, afterHead: number): Body {
    if (this.requestDir === undefined) this.setRequestDir(head.kind === 'request' ? stream.direction : stream.direction === 'egress' ? 'ingress' : 'egress');
    if (!this.unsynced) this.checkStarts(stream.messageStartNs);
    return head.kind === 'request' ? this.onRequestHead(stream, head) : this.onResponseHead(stream, head, ev, afterHead);
  }

  /**
   * Responses followed from the stream's first byte but requests only from later on: the first
   * responses answer requests we never saw, and how many there were is unknown — no safe pairing.
   */
  private checkStarts(tsNs: number): void {
    const req = this.requestDir === 'egress' ? this.egress : this.ingress;
    const resp = req === this.egress ? this.ingress : this.egress;
    if (req.startedAtZero === false && resp.startedAtZero === true) {
      this.count('http1_unseen_first_requests');
      this.desync(tsNs);
    }
  }

  onMessageEnd(stream: Http1Stream, endNs: number, endPos: number, truncated: boolean): void {
    if (stream.direction === this.requestDir) {
      const req = this.reading;
      this.reading = undefined;
      if (req === undefined) return;
      req.complete = true;
      if (endPos >= 0) req.bytes = endPos - req.startPos;
      if (truncated && !req.anomalies.includes('headers_truncated')) req.anomalies.push('request_truncated');
      return;
    }
    const tx = this.inflight;
    if (tx !== undefined) this.finishInflight(endNs, endPos, undefined, truncated && !tx.anomalies.includes('headers_truncated') ? 'response_truncated' : undefined);
  }

  onFramingLoss(stream: Http1Stream, tsNs: number): void {
    this.count('http1_framing_losses');
    this.lossSeen = true;
    if (stream.direction === this.requestDir || this.requestDir === undefined) {
      this.requestLossPending = true;
      if (this.reading !== undefined) { this.reading.anomalies.push('request_truncated'); this.reading = undefined; }
      if (this.pipelined) this.desync(tsNs);
      return;
    }
    if (this.inflight !== undefined) this.finishInflight(tsNs, -1, undefined, 'response_truncated');
    if (this.pipelined) this.desync(tsNs);
    else this.endQueued(tsNs, 'gap');
  }

  onSkipped(stream: Http1Stream, tsNs: number): void {
    // Skipped response bytes may have answered the requests waiting now: those end as 'gap'.
    // (Skipped request bytes are the rest of a request, or requests whose responses meet an empty queue.)
    if (this.requestDir !== undefined && stream.direction !== this.requestDir && this.queue.length > 0) this.endQueued(tsNs, 'gap');
  }

  onMidstreamStart(stream: Http1Stream, tsNs: number): void {
    if (this.requestDir === undefined || stream.direction === this.requestDir) this.requestLossPending = true;
    // Unseen response bytes may have answered the requests waiting now; requests are unaffected.
    // (Not a loss for pipelining inference: nothing was lost that we had been following.)
    if (this.requestDir !== undefined && stream.direction !== this.requestDir && this.queue.length > 0) {
      if (this.inflight !== undefined) this.finishInflight(tsNs, -1, undefined, 'response_truncated');
      this.endQueued(tsNs, 'gap');
    }
  }

  // ---- internals ----

  private setRequestDir(dir: Direction): void {
    this.requestDir = dir;
    const req = dir === 'egress' ? this.egress : this.ingress;
    const resp = dir === 'egress' ? this.ingress : this.egress;
    req.expect = 'request';
    resp.expect = 'response';
  }

  private onRequestHead(stream: Http1Stream, head: Http1Head): Body {
    const target = head.target;
    // absolute-form (to proxies): http://host:port/path?query — path and host come from the target.
    let pathStart = 0;
    let hostFromTarget: string | undefined;
    let scheme: 'http' | 'https' | undefined;
    if (target.charCodeAt(0) !== 47 /* / */ && (target.startsWith('http://') || target.startsWith('https://'))) {
      scheme = target.charCodeAt(4) === 115 /* s */ ? 'https' : 'http';
      const authStart = scheme === 'https' ? 8 : 7;
      let end = authStart;
      while (end < target.length && target[end] !== '/' && target[end] !== '?') end++;
      hostFromTarget = target.slice(authStart, end);
      pathStart = end;
    }
    const q = target.indexOf('?', pathStart);
    const path = q < 0 ? target.slice(pathStart) : target.slice(pathStart, q);
    const info: HttpRequestInfo = {
      method: head.method,
      target,
      path: path === '' && pathStart > 0 ? '/' : path,
      version: head.versionMinor === 1 ? '1.1' : '1.0',
    };
    if (q >= 0) info.query = target.slice(q + 1);
    if (scheme !== undefined) info.scheme = scheme;
    if (head.host !== undefined) info.host = head.host;
    else if (hostFromTarget !== undefined) info.host = hostFromTarget;
    if (head.userAgent !== undefined) info.userAgent = head.userAgent;
    if (head.contentLength >= 0) info.contentLength = head.contentLength;
    if (head.traceparent !== undefined) info.traceparent = head.traceparent;
    if (head.tracestate !== undefined) info.tracestate = head.tracestate;
    if (head.sensitive !== undefined) info.sensitiveHeaders = head.sensitive;
    const req: PendingRequest = {
      info, startNs: stream.messageStartNs, startPos: stream.messageStartPos, bytes: 0, complete: false,
      isHead: head.method === 'HEAD', isConnect: head.method === 'CONNECT', upgrade: head.upgrade,
      anomalies: head.degraded ? ['headers_truncated'] : [],
    };
    if (this.queue.length === 0) this.requestLossPending = false;
    else if (this.requestLossPending && !this.unsynced) {
      // A request while others still wait, after request bytes were lost: the client pipelines, and
      // the lost bytes may have held requests whose responses would come first. Pairing stops.
      this.count('http1_pipelined_after_loss');
      this.pipelined = true;
      this.desync(stream.messageStartNs);
    }
    if (stream.skippedTail) {
      // This request was found after skipping the unseen rest of other requests written together
      // with it (pipelining). How many were skipped is unknowable (a message need not start after a
      // LF), so their responses cannot be told from this one's: pairing stops.
      this.pipelined = true;
      this.desync(stream.messageStartNs);
    }
    if (!this.unsynced && this.queue.length >= this.options.maxPendingRequests) {
      const dropped = this.queue.shift()!;
      this.count('http1_pending_overflow');
      dropped.anomalies.push('pending_limit');
      this.emitError(dropped, stream.messageStartNs, 'timeout');
      this.owe(dropped.isHead, stream.messageStartNs); // may stop pairing: then this request is unsynced too
    }
    if (this.unsynced) {
      req.anomalies.push('unsynced');
      this.emitError(req, stream.messageStartNs, 'gap');
      this.count('http1_unpaired_requests');
    } else {
      this.queue.push(req);
    }
    this.reading = req;
    if (head.chunked) return Body.Chunked;
    if (head.badFraming) { this.count('http1_bad_framing'); return Body.Unframed; }
    return head.contentLength > 0 ? Body.Length : Body.None;
  }

  private onResponseHead(stream: Http1Stream, head: Http1Head, ev: DataEvent, afterHead: number): Body {
    if (stream.skippedTail && this.queue.length > 0) {
      // Found after skipping unseen bytes inside a read: they may have held (part of) the answer to
      // the oldest waiting request, so none of the waiting ones can safely take this response.
      this.pipelined = true;
      this.endQueued(stream.messageStartNs, 'gap');
    }
    const status = head.status;
    if (status >= 100 && status < 200 && status !== 101) {
      this.count('http1_interim_responses');
      return Body.None; // 100-continue, 103: the final response is still to come
    }
    let req: PendingRequest | undefined;
    let headKnown = false; // the request this answers is known to be a HEAD
    let framable = false; // we know the request, so we know whether a body follows
    if (this.owed.length > 0) {
      headKnown = this.owed.shift()!;
      framable = true;
      this.count('http1_late_responses');
    } else if (this.unsynced) {
      this.count('http1_unpaired_responses');
    } else {
      req = this.queue.shift();
      if (req === undefined) this.count('http1_unmatched_responses');
      // Another request already sent when this response came: pipelining. Only trusted while the
      // connection has lost nothing (a lost response looks the same).
      else if (this.queue.length > 0 && !this.lossSeen) this.pipelined = true;
    }
    if (req !== undefined) {
      if (req.anomalies.length === 0 && head.degraded) req.anomalies = ['headers_truncated'];
      else if (head.degraded) req.anomalies.push('headers_truncated');
      this.inflight = {
        protocol: 'http1', connId: this.conn.connId, role: this.requestDir === 'egress' ? 'client' : 'server',
        tuple: this.conn.tuple, process: this.conn.process, startNs: req.startNs, endNs: 0,
        requestBytes: req.bytes, responseBytes: 0, http: { request: req.info, response: { status } }, anomalies: req.anomalies,
      };
      this.inflightStartPos = stream.messageStartPos;
      this.inflightReq = req;
    }
    if (status === 101 || (req?.isConnect === true && status >= 200 && status < 300)) {
      return this.switchAway(stream, head, req, ev, afterHead);
    }
    if (req !== undefined) framable = true;
    if (req?.isHead === true || headKnown || status === 204 || status === 304) return Body.None;
    // Without its request we cannot tell a HEAD response (no body) from one with a body.
    if (!framable && (head.chunked || head.contentLength > 0 || head.contentLength < 0)) {
      this.count('http1_unframed_responses');
      return Body.Skip;
    }
    if (head.chunked) return Body.Chunked;
    if (head.badFraming && head.contentLength < 0 && !head.chunked) return Body.UntilClose; // unknown coding: ends at close
    if (head.badFraming) { this.count('http1_bad_framing'); return Body.Unframed; }
    if (head.contentLength >= 0) return head.contentLength > 0 ? Body.Length : Body.None;
    return Body.UntilClose;
  }

  private inflightReq: PendingRequest | undefined;

  /** 101 or a CONNECT tunnel: the rest of the connection is not HTTP/1.1. */
  private switchAway(stream: Http1Stream, head: Http1Head, req: PendingRequest | undefined, ev: DataEvent, afterHead: number): Body {
    const h2c = head.upgrade === 'h2c' || (head.upgrade === '' && req?.upgrade === 'h2c');
    const other = stream === this.egress ? this.ingress : this.egress;
    other.stop();
    if (h2c && head.status === 101) {
      this.count('http1_h2c_upgrades');
      if (this.inflight !== undefined) this.inflight.responseBytes = stream.headBytes;
      const tx = this.inflight;
      this.inflight = undefined;
      this.inflightReq = undefined;
      const carry = [];
      const rest = Math.min(afterHead, ev.bytes.length);
      if (ev.totalBytes > afterHead) {
        carry.push({ direction: ev.direction, bytes: new Uint8Array(ev.bytes.subarray(rest)) /* a copy: ev.bytes may be a Buffer, whose slice is a view */, totalBytes: ev.totalBytes - afterHead, offset: ev.offset + afterHead, tsNs: ev.tsNs });
      }
      this.sink.switchProtocol({
        to: 'http2', carry,
        upgradeRequest: req && tx ? { request: req.info, startNs: req.startNs, requestBytes: req.bytes } : undefined,
        inferredRole: this.requestDir === 'egress' ? 'client' : 'server',
      });
      return Body.Stop;
    }
    this.count(head.status === 101 ? 'http1_upgrades' : 'http1_tunnels');
    if (this.inflight !== undefined) this.finishInflight(ev.tsNs, stream.messageStartPos + stream.headBytes, undefined);
    this.sink.switchProtocol({ to: 'opaque', carry: ev.totalBytes > afterHead ? [{ direction: ev.direction, bytes: new Uint8Array(0), totalBytes: ev.totalBytes - afterHead, offset: ev.offset + afterHead, tsNs: ev.tsNs }] : [] });
    return Body.Stop;
  }

  /**
   * A request ended before its response: that response is still to come and must be skipped. The
   * list is bounded like the queue; past it (a server that stopped answering) we could only forget
   * an owed response and pair the next one wrongly, so pairing stops (waiting requests end as 'gap').
   */
  private owe(isHead: boolean, tsNs: number): void {
    if (this.owed.length >= this.options.maxPendingRequests) {
      this.count('http1_owed_overflow');
      this.owed = NONE_OWED;
      this.desync(tsNs);
      return;
    }
    if (this.owed === NONE_OWED) this.owed = [];
    this.owed.push(isHead);
  }

  private finishInflight(endNs: number, endPos: number, error: TransactionError | undefined, anomaly?: string): void {
    const tx = this.inflight!;
    const req = this.inflightReq;
    this.inflight = undefined;
    this.inflightReq = undefined;
    tx.endNs = endNs;
    if (req !== undefined) tx.requestBytes = req.bytes;
    if (endPos >= 0) tx.responseBytes = endPos - this.inflightStartPos;
    if (error !== undefined) tx.error = error;
    if (anomaly !== undefined) tx.anomalies.push(anomaly);
    this.sink.emit(tx);
  }

  private endQueued(tsNs: number, error: TransactionError): void {
    while (this.queue.length > 0) {
      const req = this.queue.shift()!;
      if (error === 'gap') this.count('http1_gap_ended_requests');
      this.emitError(req, tsNs, error);
    }
    this.reading = undefined;
  }

  /** Pairing can no longer be trusted on this connection (pipelining + loss). */
  private desync(tsNs: number): void {
    if (!this.unsynced) this.count('http1_unsynced_connections');
    this.unsynced = true;
    this.endQueued(tsNs, 'gap');
  }

  private emitError(req: PendingRequest, endNs: number, error: TransactionError): void {
    this.sink.emit({
      protocol: 'http1', connId: this.conn.connId, role: this.requestDir === 'egress' ? 'client' : 'server',
      tuple: this.conn.tuple, process: this.conn.process, startNs: req.startNs, endNs: Math.max(endNs, req.startNs),
      requestBytes: req.bytes, responseBytes: 0, http: { request: req.info }, error, anomalies: req.anomalies,
    });
  }
}

export function createHttp1Parser(conn: ConnectionInfo, sink: SwitchingParserSink, options: EngineOptions): ConnectionParser {
  return new Http1ConnectionParser(conn, sink, options);
}
