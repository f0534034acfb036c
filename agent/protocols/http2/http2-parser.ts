// HTTP/2 (and gRPC) parser for one connection: two frame readers and two HPACK decoders (one per
// direction), streams paired by id. A stream becomes a Transaction when its response ends
// (END_STREAM), is reset (RST_STREAM: 'stream_reset', gRPC CANCELLED), is refused by GOAWAY,
// times out, or the connection closes. Nothing here throws; every loss is counted.
// Role: a connection picked up mid-stream often reaches us as 'unknown' (the kernel tells only when
// a syscall starts with HEADERS). The frames tell which side is the client (the preface, request
// pseudo-headers, :status, PUSH_PROMISE), so each transaction carries the role that evidence gives
// — or 'unknown' while there is none; it is never guessed.
import type { CloseEvent, DataEvent, Direction, GapEvent, Role } from '../../capture/capture-events.js';
import type { ConnectionParser, ParserSink, ProtocolSwitch } from '../protocol-parser.js';
import type { TransactionError } from '../transaction.js';
import type { ConnectionInfo } from '../engine/parser-registry.js';
import { defaultEngineOptions, type EngineOptions } from '../engine/engine-options.js';
import { FrameReader, type FrameHandler } from './frame-reader.js';
import { Flag, FrameType, MAX_MAX_FRAME_SIZE, type FrameHeader } from './http2-frames.js';
import { HpackDecoder } from './hpack-decoder.js';
import {
  applyResponseHeaders, requestFromHeaders, toTransaction, type StreamState,
} from './http2-stream.js';

/** A header block split over HEADERS/PUSH_PROMISE + CONTINUATION frames, being collected. */
interface PendingBlock {
  streamId: number;
  push: boolean;
  endStream: boolean;
  chunks: Uint8Array[];
  size: number;
  truncated: boolean;
  /** Frame bytes of the block while its stream does not exist yet (a new request). */
  frameBytes: number;
}

/** A decoded header block: the fields kept, and what went wrong as stream anomalies. */
interface DecodedBlock {
  headers: string[];
  notes: string[];
  /** The table is incomplete because this direction was picked up mid-stream. */
  midstream: boolean;
}

class DirectionState implements FrameHandler {
  readonly reader: FrameReader;
  readonly hpack: HpackDecoder;
  block: PendingBlock | undefined = undefined;
  /** This direction was first seen mid-stream (not a loss or a capped capture later on). */
  pickedUpMidstream = false;

  constructor(readonly dir: Direction, readonly parser: Http2Parser, opts: EngineOptions) {
    this.reader = new FrameReader(this, Math.min(opts.maxHeaderBytes, opts.maxBufferedBytesPerConnection));
    this.hpack = new HpackDecoder(4096, opts.maxHpackTableSize);
  }

  frame(h: FrameHeader, payload: Uint8Array, truncated: boolean, tsNs: number): void {
    this.parser.onFrame(this, h, payload, truncated, tsNs);
  }
  preface(): void { this.parser.onPreface(this.dir); }
  desync(reason: string): void { this.parser.onDesync(this, reason); }
  resync(skipped: number, found: boolean): void {
    this.parser.sink.count('http2_resync_skipped_bytes', skipped);
    if (found) this.parser.sink.count('http2_resyncs');
  }
}

export class Http2Parser implements ConnectionParser {
  private readonly dirs: Record<Direction, DirectionState>;
  private readonly streams = new Map<number, StreamState>();
  /** Direction of client → server bytes, once known (role, preface, request or response HEADERS, PUSH_PROMISE). */
  private clientDir: Direction | undefined;
  private readonly timeoutNs: number;
  private readonly maxStreams: number;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaderCount: number;
  /** Expected offset of the next DataEvent per direction, to notice unannounced holes. */
  private readonly nextOffset: Record<Direction, number> = { egress: -1, ingress: -1 };
  /** h2c with an unknown role: stream 1's request direction is a guess until the client preface. */
  private upgradeDirGuessed = false;

  constructor(
    private readonly conn: ConnectionInfo,
    readonly sink: ParserSink,
    opts: EngineOptions = defaultEngineOptions,
    handover?: ProtocolSwitch,
  ) {
    this.dirs = { egress: new DirectionState('egress', this, opts), ingress: new DirectionState('ingress', this, opts) };
    this.timeoutNs = opts.requestTimeoutNs;
    this.maxStreams = opts.maxPendingRequests;
    this.maxHeaderBytes = opts.maxHeaderBytes;
    this.maxHeaderCount = opts.maxHeaderCount;
    if (conn.role === 'client') this.clientDir = 'egress';
    else if (conn.role === 'server') this.clientDir = 'ingress';
    const up = handover?.upgradeRequest;
    if (up !== undefined) {
      this.upgradeDirGuessed = this.clientDir === undefined; // role unknown: the preface will tell
      // h2c (RFC 7540 3.2): the HTTP/1.1 request that asked for the upgrade is answered on stream 1.
      this.streams.set(1, {
        id: 1, reqDir: this.clientDir ?? 'egress', startNs: up.startNs, requestBytes: up.requestBytes,
        responseBytes: 0, request: { ...up.request }, responded: false, anomalies: new Set(['h2c_upgrade']),
      });
    }
  }

  onData(ev: DataEvent): void {
    const d = this.dirs[ev.direction];
    const expected = this.nextOffset[ev.direction];
    if (expected >= 0 && ev.offset > expected) {
      this.sink.count('http2_offset_holes');
      d.reader.lose(ev.offset - expected, ev.tsNs, 'gap');
    }
    this.nextOffset[ev.direction] = ev.offset + ev.totalBytes;
    d.reader.push(ev.bytes, ev.totalBytes, ev.tsNs);
  }

  onGap(ev: GapEvent): void {
    const d = this.dirs[ev.direction];
    this.sink.count('http2_gaps');
    if (ev.lostBytes > 0) {
      d.reader.lose(ev.lostBytes, ev.tsNs, 'gap');
      if (this.nextOffset[ev.direction] >= 0) this.nextOffset[ev.direction] += ev.lostBytes;
    } else if (d.reader.bufferedBytes() > 0) {
      // The engine asks us to drop what we buffer (its memory bound): treat it as lost.
      d.reader.lose(Number.MAX_SAFE_INTEGER, ev.tsNs, 'gap');
      d.block = undefined;
    }
  }

  onClose(ev: CloseEvent): void {
    for (const s of [...this.streams.values()]) this.finish(s, ev.tsNs, 'connection_closed');
  }

  onTick(nowNs: number): void {
    for (const s of this.streams.values()) {
      if (nowNs - s.startNs > this.timeoutNs) {
        this.sink.count('http2_timeouts');
        this.finish(s, nowNs, s.anomalies.has('gap') ? 'gap' : 'timeout');
      }
    }
  }

  bufferedBytes(): number {
    let n = this.dirs.egress.reader.bufferedBytes() + this.dirs.ingress.reader.bufferedBytes();
    for (const d of [this.dirs.egress, this.dirs.ingress]) if (d.block) n += d.block.size;
    return n;
  }

  get openStreams(): number { return this.streams.size; }

  onRole(role: 'client' | 'server'): void {
    this.learnClientDir(role === 'client' ? 'egress' : 'ingress'); // if the frames said otherwise, they win (counted)
  }

  // ---- called by the direction states ----

  onPreface(dir: Direction): void {
    this.clientDir ??= dir;
    this.fixUpgradeDir(dir);
  }

  onDesync(d: DirectionState, reason: string): void {
    this.sink.count(reason === 'midstream' ? 'http2_midstream_pickups' : 'http2_desyncs');
    if (reason === 'midstream') d.pickedUpMidstream = true;
    if (reason !== 'midstream') this.sink.count(`http2_desync_${reason}`);
    d.hpack.desync();
    if (d.block) { d.block = undefined; this.sink.count('http2_header_blocks_lost'); }
    for (const s of this.streams.values()) s.anomalies.add(reason === 'midstream' ? 'midstream' : 'gap');
  }

  onFrame(d: DirectionState, h: FrameHeader, payload: Uint8Array, truncated: boolean, tsNs: number): void {
    if (d.block !== undefined && h.type !== FrameType.CONTINUATION) {
      // RFC 9113 6.10: nothing may interleave a header block. Our view of it is broken.
      this.sink.count('http2_protocol_errors');
      d.block = undefined;
      d.hpack.desync();
      this.sink.count('http2_hpack_degraded');
    }
    switch (h.type) {
      case FrameType.DATA: return this.onDataFrame(d, h, tsNs);
      case FrameType.HEADERS:
      case FrameType.PUSH_PROMISE: return this.onHeadersFrame(d, h, payload, truncated, tsNs);
      case FrameType.CONTINUATION: return this.onContinuationFrame(d, h, payload, truncated, tsNs);
      case FrameType.RST_STREAM: return this.onRstStreamFrame(d, h, tsNs);
      case FrameType.SETTINGS: return this.onSettingsFrame(d, h, payload, truncated);
      case FrameType.GOAWAY: return this.onGoawayFrame(d, payload, tsNs);
      default: return; // PRIORITY, PING, WINDOW_UPDATE, unknown extension frames: nothing to pair
    }
  }

  // ---- one method per frame type ----

  private onDataFrame(d: DirectionState, h: FrameHeader, tsNs: number): void {
    const s = this.streams.get(h.streamId);
    if (s === undefined) { if (h.streamId !== 0) this.sink.count('http2_unpaired_frames'); return; }
    this.addBytes(s, d.dir, 9 + h.length);
    if (h.flags & Flag.END_STREAM) this.endStream(s, d.dir, tsNs);
  }

  /** HEADERS or PUSH_PROMISE: a header block starts (and ends here unless CONTINUATION follows). */
  private onHeadersFrame(d: DirectionState, h: FrameHeader, payload: Uint8Array, truncated: boolean, tsNs: number): void {
    const push = h.type === FrameType.PUSH_PROMISE;
    const range = blockRange(h, payload, truncated);
    if (range === undefined) { this.malformedFrame(d); return; }
    const [start, end] = range;
    if (push) this.sink.count('http2_push_promises');
    const block: PendingBlock = {
      streamId: h.streamId, push, endStream: !push && (h.flags & Flag.END_STREAM) !== 0,
      chunks: [], size: 0, truncated, frameBytes: 0,
    };
    const s = push ? undefined : this.streams.get(h.streamId);
    if (s !== undefined) this.addBytes(s, d.dir, 9 + h.length);
    else block.frameBytes = 9 + h.length;
    if ((h.flags & Flag.END_HEADERS) || truncated) {
      this.headerBlock(d, block, payload.subarray(start, end), tsNs);
    } else {
      block.chunks.push(payload.slice(start, end));
      block.size = end - start;
      d.block = block;
    }
  }

  private onContinuationFrame(d: DirectionState, h: FrameHeader, payload: Uint8Array, truncated: boolean, tsNs: number): void {
    const block = d.block;
    if (block === undefined || block.streamId !== h.streamId) {
      // The block's start was lost (or never sent): its inserts are unknown, so is the table.
      this.sink.count('http2_orphan_continuations');
      d.block = undefined;
      d.hpack.desync();
      this.sink.count('http2_hpack_degraded');
      return;
    }
    const s = this.streams.get(h.streamId);
    if (s !== undefined) this.addBytes(s, d.dir, 9 + h.length);
    else block.frameBytes += 9 + h.length;
    if (block.size + payload.length > this.maxHeaderBytes) {
      block.truncated = true;
      this.sink.count('http2_header_block_too_large');
    } else {
      block.chunks.push(payload.slice());
      block.size += payload.length;
    }
    if (truncated) block.truncated = true;
    if ((h.flags & Flag.END_HEADERS) || truncated || block.truncated) {
      d.block = undefined;
      this.headerBlock(d, block, concat(block.chunks, block.size), tsNs);
    }
  }

  private onRstStreamFrame(d: DirectionState, h: FrameHeader, tsNs: number): void {
    const s = this.streams.get(h.streamId);
    if (s === undefined) return;
    this.addBytes(s, d.dir, 9 + h.length);
    this.sink.count('http2_stream_resets');
    this.finish(s, tsNs, 'stream_reset');
  }

  private onSettingsFrame(d: DirectionState, h: FrameHeader, payload: Uint8Array, truncated: boolean): void {
    if ((h.flags & Flag.ACK) || truncated) return;
    // Settings a peer sends bound what the *other* direction may use.
    const other = this.dirs[d.dir === 'egress' ? 'ingress' : 'egress'];
    for (let p = 0; p + 6 <= payload.length; p += 6) {
      const id = (payload[p]! << 8) | payload[p + 1]!;
      const v = ((payload[p + 2]! << 24) | (payload[p + 3]! << 16) | (payload[p + 4]! << 8) | payload[p + 5]!) >>> 0;
      if (id === 1) other.hpack.setAllowedMax(v);
      else if (id === 5 && v >= 16384 && v <= MAX_MAX_FRAME_SIZE) other.reader.maxFrameSize = v;
    }
  }

  private onGoawayFrame(d: DirectionState, payload: Uint8Array, tsNs: number): void {
    if (payload.length < 4) return;
    const last = ((payload[0]! & 0x7f) * 0x1000000) + ((payload[1]! << 16) | (payload[2]! << 8) | payload[3]!);
    this.sink.count('http2_goaways');
    for (const s of [...this.streams.values()]) {
      if (s.id > last && s.reqDir !== d.dir) { s.anomalies.add('goaway'); this.finish(s, tsNs, 'connection_closed'); }
    }
  }

  // ---- internals ----

  /** Which side is the client, from evidence (first evidence wins; later contradictions are counted). */
  private learnClientDir(dir: Direction): void {
    if (this.clientDir === undefined) {
      this.clientDir = dir;
      this.fixUpgradeDir(dir);
    } else if (this.clientDir !== dir) {
      this.sink.count('http2_role_disagreements');
    }
  }

  /** h2c with an unknown role: stream 1's request direction was a guess until now. */
  private fixUpgradeDir(dir: Direction): void {
    if (!this.upgradeDirGuessed) return;
    this.upgradeDirGuessed = false;
    const s1 = this.streams.get(1);
    if (s1 !== undefined) s1.reqDir = dir;
  }

  /** A stream's role: the client side's, for a stream whose request came from it; else 'unknown'. */
  private streamRole(s: StreamState): Role {
    if (this.clientDir === undefined) return 'unknown';
    if (s.reqDir !== this.clientDir) {
      // Its "request" came from the server side (a guess made before the client side was known).
      this.sink.count('http2_stream_role_conflicts');
      return 'unknown';
    }
    return this.clientDir === 'egress' ? 'client' : 'server';
  }

  /** A whole (or cut) header block: decoded to keep the table in step, then paired by stream. */
  private headerBlock(d: DirectionState, block: PendingBlock, bytes: Uint8Array, tsNs: number): void {
    const decoded = this.decodeBlock(d, block, bytes);
    const h = decoded.headers;
    if (block.push) { // decoded only to keep the table in step; only a server sends PUSH_PROMISE
      this.learnClientDir(other(d.dir));
      return;
    }
    let hasMethod = false;
    let hasStatus = false;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] === ':method') hasMethod = true;
      else if (h[i] === ':status') hasStatus = true;
    }
    // Only a server sends :status; only a client :method (PUSH_PROMISE, the exception, returned above).
    if (hasStatus) this.learnClientDir(other(d.dir));
    else if (hasMethod) this.learnClientDir(d.dir);
    const s = this.streams.get(block.streamId);
    if (s === undefined) {
      const looksLikeResponse = hasStatus || (!hasMethod && this.clientDir !== undefined && d.dir !== this.clientDir);
      if (looksLikeResponse) this.sink.count('http2_unpaired_responses');
      else this.openStream(d, block, decoded, hasMethod, tsNs);
      return;
    }
    this.streamHeaders(d, block, s, decoded, tsNs);
  }

  /** A header block on a known stream: request trailers, or response headers / trailers. */
  private streamHeaders(d: DirectionState, block: PendingBlock, s: StreamState, decoded: DecodedBlock, tsNs: number): void {
    for (const n of decoded.notes) s.anomalies.add(n);
    if (d.dir !== s.reqDir) {
      const status = applyResponseHeaders(s, decoded.headers);
      if (status !== undefined && status >= 200) { s.status = status; s.responded = true; }
      else if (status === undefined && !s.responded && !block.endStream) s.responded = true; // degraded final headers
    }
    if (block.endStream) this.endStream(s, d.dir, tsNs);
  }

  /** HPACK-decodes a block, counts what went wrong; returns the kept fields and the anomalies they carry. */
  private decodeBlock(d: DirectionState, block: PendingBlock, bytes: Uint8Array): DecodedBlock {
    const res = d.hpack.decode(bytes, 0, bytes.length);
    const notes: string[] = [];
    if (block.truncated || res.truncated || res.malformed) {
      // Part of the block never reached us: what it inserted into the table is unknown.
      d.hpack.desync();
      this.sink.count('http2_hpack_degraded');
      notes.push('hpack_degraded');
    }
    if (res.unknownRefs > 0) {
      this.sink.count('http2_hpack_unknown_refs', res.unknownRefs);
      notes.push('hpack_unknown_ref');
    }
    if (res.badLiterals > 0) { this.sink.count('http2_hpack_bad_literals', res.badLiterals); notes.push('hpack_bad_literal'); }
    if (res.oversizedUpdates > 0) this.sink.count('http2_hpack_oversized_table_updates', res.oversizedUpdates);
    const h = res.headers;
    // The whole block was decoded (the table must stay in step); only the first fields are kept.
    if (h.length > 2 * this.maxHeaderCount) {
      h.length = 2 * this.maxHeaderCount;
      this.sink.count('http2_header_fields_skipped');
      notes.push('header_count_limit');
    }
    // 'midstream' (for a new stream) only when that is why the table is incomplete: a capped block is 'hpack_degraded'.
    return { headers: h, notes, midstream: d.pickedUpMidstream && res.unknownRefs > 0 };
  }

  /** A request header block on a new stream (the oldest stream gives way when the table is full). */
  private openStream(d: DirectionState, block: PendingBlock, decoded: DecodedBlock, hasMethod: boolean, tsNs: number): void {
    if (this.streams.size >= this.maxStreams) {
      this.sink.count('http2_streams_dropped');
      const oldest = this.streams.values().next().value as StreamState;
      oldest.anomalies.add('stream_table_full');
      this.finish(oldest, tsNs, 'timeout');
    }
    const { request, contentType } = requestFromHeaders(decoded.headers);
    const s: StreamState = {
      id: block.streamId, reqDir: d.dir, startNs: tsNs, requestBytes: block.frameBytes, responseBytes: 0,
      request, responded: false, anomalies: new Set(),
    };
    if (contentType !== undefined) s.contentType = contentType;
    if (!hasMethod) s.anomalies.add('request_headers_unknown');
    if (decoded.midstream) s.anomalies.add('midstream');
    for (const n of decoded.notes) s.anomalies.add(n);
    this.streams.set(s.id, s);
    if (block.endStream) this.endStream(s, d.dir, tsNs);
  }

  private malformedFrame(d: DirectionState): void {
    this.sink.count('http2_protocol_errors');
    d.hpack.desync();
    this.sink.count('http2_hpack_degraded');
  }

  private addBytes(s: StreamState, dir: Direction, n: number): void {
    if (dir === s.reqDir) s.requestBytes += n; else s.responseBytes += n;
  }

  private endStream(s: StreamState, dir: Direction, tsNs: number): void {
    if (dir !== s.reqDir) this.finish(s, tsNs, undefined);
  }

  private finish(s: StreamState, endNs: number, error: TransactionError | undefined): void {
    if (!this.streams.delete(s.id)) return;
    this.sink.emit(toTransaction(this.conn, this.streamRole(s), s, endNs, error));
  }
}

/** The header block's [start, end) in a HEADERS/PUSH_PROMISE payload (after padding length, promised
 *  id or priority; before the padding); undefined when the frame is malformed. */
function blockRange(h: FrameHeader, payload: Uint8Array, truncated: boolean): [number, number] | undefined {
  let start = 0;
  let end = payload.length;
  let pad = 0;
  if (h.flags & Flag.PADDED) {
    if (end < 1) return undefined;
    pad = payload[0]!; start = 1;
  }
  if (h.type === FrameType.PUSH_PROMISE) start += 4;
  else if (h.flags & Flag.PRIORITY) start += 5;
  if (!truncated) {
    end -= pad;
    if (start > end) return undefined;
  } else if (start > end) start = end;
  return [start, end];
}

function other(dir: Direction): Direction {
  return dir === 'egress' ? 'ingress' : 'egress';
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let p = 0;
  for (const c of chunks) { out.set(c.subarray(0, Math.min(c.length, size - p)), p); p += c.length; if (p >= size) break; }
  return out;
}

/** ParserFactory for the engine's registry. */
export function createHttp2Parser(conn: ConnectionInfo, sink: ParserSink, options: EngineOptions, handover?: ProtocolSwitch): Http2Parser {
  return new Http2Parser(conn, sink, options, handover);
}
