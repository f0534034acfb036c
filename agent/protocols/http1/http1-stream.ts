// Message framing of one direction of an HTTP/1.x connection: finds heads (split across any number
// of events), then skips bodies by count (Content-Length, chunked with trailers, until close) using
// the true byte counts, so uncaptured body bytes cost nothing. Lost bytes that break framing move it
// to RESYNC, which waits for the next message start. The owner pairs and reports.
import type { DataEvent, Direction } from '../../capture/capture-events.js';
import { ensureCapacity, hexDigit, indexOfByte } from '../common/byte-text.js';
import { findHeadEnd, HEAD_INVALID, Http1Head, lineEnd, looksLikeRequestStart, looksLikeResponseStart, parseHead, parseStartLine } from './http1-head.js';

/**
 * How to frame what follows a head. Skip: a message we do not report and cannot frame (a response
 * whose request we never saw may answer a HEAD): look for the next message start instead.
 */
export const enum Body { None, Length, Chunked, UntilClose, Stop, Reject, Unframed, Skip }

const enum State { Start, Head, Length, ChunkSize, ChunkData, ChunkDataEnd, Trailers, UntilClose, Resync, Stopped }

const CR = 13, LF = 10;
/** A step's result when the rest of the event is not for framing. */
const STOP = -1;

/**
 * Heads are parsed, handed to the owner and forgotten within one call, so every stream shares one
 * Http1Head (and one empty buffer until a head spans events): an idle connection stays small.
 */
const SHARED_HEAD = new Http1Head();
const EMPTY = new Uint8Array(0);

/** What a stream tells its connection. */
export interface StreamOwner {
  /** A head was parsed (head.degraded: cut short). Returns how to frame what follows. */
  onHead(stream: Http1Stream, head: Http1Head, ev: DataEvent, afterHead: number): Body;
  /** The message that began with the last accepted head is complete (or cut short: truncated). */
  onMessageEnd(stream: Http1Stream, endNs: number, messageBytes: number, truncated: boolean): void;
  /** Bytes were lost where framing needed them: the stream now waits for the next message start. */
  onFramingLoss(stream: Http1Stream, tsNs: number): void;
  /** Resynchronisation passed over unseen bytes (they may have held whole messages). */
  onSkipped(stream: Http1Stream, tsNs: number): void;
  /** This direction's first event is not its stream's start: earlier bytes were never seen. */
  onMidstreamStart(stream: Http1Stream, tsNs: number): void;
  count(counter: string, n?: number): void;
}

export class Http1Stream {
  /** Which start lines are acceptable here; 'any' until the connection knows its request direction. */
  expect: 'request' | 'response' | 'any' = 'any';
  readonly head = SHARED_HEAD;
  /** Message start: stream position and timestamp of its first byte. */
  messageStartPos = 0;
  messageStartNs = 0;
  lastNs = 0;
  /** Size of the last head parsed. */
  headBytes = 0;
  /**
   * Set when resynchronisation found the next message start inside an event, after skipping the
   * unseen rest of messages written (or read) together with it — evidence of pipelining. Read by
   * the owner in onHead.
   */
  skippedTail = false;
  /** Whether this direction was followed from its stream's first byte (undefined: no event yet). */
  startedAtZero: boolean | undefined = undefined;

  private state = State.Start;
  private remaining = 0;
  private chunkSizeDigits = 0;
  private lineLen = 0;
  private streamPos = 0;
  private expectedOffset = -1;
  private buf: Uint8Array = EMPTY;
  private bufLen = 0;
  private bufScanned = 0;

  constructor(readonly direction: Direction, private readonly owner: StreamOwner, private readonly maxHeaderBytes: number, private readonly maxHeaderCount: number) {}

  bufferedBytes(): number {
    return this.bufLen;
  }

  get midHead(): boolean {
    return this.state === State.Head;
  }

  stop(): void {
    this.state = State.Stopped;
    this.clearBuf();
  }

  /** Bytes lost (GapEvent, or an offset jump). Within a known-length body they are just skipped. */
  gap(lostBytes: number, tsNs: number): void {
    this.streamPos += lostBytes;
    if (this.expectedOffset >= 0) this.expectedOffset += lostBytes;
    if (lostBytes === 0 && this.state !== State.Head) return;
    this.lose(lostBytes, tsNs);
  }

  private lose(lostBytes: number, tsNs: number): void {
    switch (this.state) {
      case State.Length:
      case State.ChunkData:
        if (lostBytes > 0 && lostBytes <= this.remaining) {
          this.remaining -= lostBytes;
          this.owner.count('http1_gap_bytes_skipped', lostBytes);
          if (this.remaining === 0) this.afterBodyPart(tsNs, this.streamPos);
          return;
        }
        break;
      case State.UntilClose:
      case State.Stopped:
        return;
      case State.Resync:
        // Still looking for a message start, but the owner must hear of every loss: requests may
        // have been queued since the last one.
        this.owner.onFramingLoss(this, tsNs);
        return;
      default:
        break;
    }
    this.clearBuf();
    this.state = State.Resync;
    this.owner.onFramingLoss(this, tsNs);
  }

  feed(ev: DataEvent): void {
    const cap = ev.bytes.length < ev.totalBytes ? ev.bytes.length : ev.totalBytes;
    const total = ev.totalBytes;
    this.lastNs = ev.tsNs;
    this.checkOffset(ev);
    this.expectedOffset = ev.offset + total;
    const base = this.streamPos;
    this.streamPos += total;
    // Each state's method consumes bytes from `pos` and returns where the next starts, or STOP when
    // the rest of the event is not for framing (capped, malformed, handed to the owner).
    let pos = 0;
    while (pos < total) {
      switch (this.state) {
        case State.Start: pos = this.atStart(ev, cap, base, pos); break;
        case State.Head: pos = this.inHead(ev, cap, pos); break;
        case State.Length:
        case State.ChunkData: pos = this.inBody(ev, base, pos); break;
        case State.ChunkSize: pos = this.inChunkSize(ev, cap, pos); break;
        case State.ChunkDataEnd: pos = this.atChunkDataEnd(ev, cap, pos); break;
        case State.Trailers: pos = this.inTrailers(ev, cap, base, pos); break;
        case State.Resync: pos = this.resync(ev, cap, pos); break;
        case State.UntilClose:
        case State.Stopped: return;
      }
      if (pos === STOP) return;
    }
  }

  /** The first event tells whether we follow the stream from its start; later ones may skip bytes. */
  private checkOffset(ev: DataEvent): void {
    if (this.expectedOffset < 0) {
      this.startedAtZero = ev.offset === 0;
      if (ev.offset > 0) { // picked up mid-stream: the next message start is our first
        this.state = State.Resync;
        this.owner.count('http1_midstream_starts');
        this.owner.onMidstreamStart(this, ev.tsNs);
      }
    } else if (ev.offset > this.expectedOffset) {
      this.owner.count('http1_offset_gaps');
      this.gap(ev.offset - this.expectedOffset, ev.tsNs);
    }
  }

  /** Between messages: a head starts here (parsed in one pass when it is all in this event). */
  private atStart(ev: DataEvent, cap: number, base: number, pos: number): number {
    const bytes = ev.bytes;
    if (pos >= cap) { this.capped(ev); return STOP; }
    while (pos < cap && (bytes[pos] === CR || bytes[pos] === LF)) pos++; // stray CRLF between messages
    if (pos >= cap) return pos;
    this.messageStartPos = base + pos;
    this.messageStartNs = ev.tsNs;
    // Fast path: the whole head is in this event; parsed in one pass, straight from its bytes.
    const end = parseHead(bytes, pos, cap, this.head, this.maxHeaderCount, false);
    if (end >= 0) {
      if (end - pos > this.maxHeaderBytes) { this.tooLarge(bytes, pos, end, ev, ev.tsNs); return STOP; }
      this.headBytes = end - pos;
      return this.accept(ev, end, false);
    }
    if (end === HEAD_INVALID) { this.malformed(ev.tsNs, 'http1_parse_errors'); return STOP; }
    if (cap - pos > this.maxHeaderBytes) { this.tooLarge(bytes, pos, cap, ev, ev.tsNs); return STOP; }
    this.append(bytes, pos, cap);
    this.state = State.Head;
    return cap;
  }

  /** A head spanning events: held until its end arrives. */
  private inHead(ev: DataEvent, cap: number, pos: number): number {
    if (pos >= cap) { this.capped(ev); return STOP; }
    const before = this.bufLen;
    const take = Math.min(cap - pos, this.maxHeaderBytes + 4 - before);
    this.append(ev.bytes, pos, pos + take);
    const end = findHeadEnd(this.buf, 0, this.bufLen, this.bufScanned > 3 ? this.bufScanned - 3 : 0);
    this.bufScanned = this.bufLen;
    if (end < 0) {
      if (this.bufLen > this.maxHeaderBytes) { this.tooLarge(this.buf, 0, this.bufLen, ev, ev.tsNs); return STOP; }
      return pos + take;
    }
    if (end > this.maxHeaderBytes) { this.tooLarge(this.buf, 0, end, ev, ev.tsNs); return STOP; }
    const consumed = end - before; // bytes of this event that belong to the head
    const held = this.buf;
    this.clearBuf();
    return this.onHeadBytes(held, 0, end, ev, pos + consumed, false);
  }

  /** Content-Length body or chunk data: skipped by count, captured or not. */
  private inBody(ev: DataEvent, base: number, pos: number): number {
    const n = Math.min(this.remaining, ev.totalBytes - pos);
    pos += n;
    this.remaining -= n;
    if (this.remaining === 0) this.afterBodyPart(ev.tsNs, base + pos);
    return pos;
  }

  /** A chunk-size line: hex digits, then an extension or CR skipped up to LF. */
  private inChunkSize(ev: DataEvent, cap: number, pos: number): number {
    if (pos >= cap) { this.capped(ev); return STOP; }
    const bytes = ev.bytes;
    while (pos < cap) {
      const b = bytes[pos++]!;
      if (b === LF) {
        if (this.chunkSizeDigits === 0) { this.malformed(ev.tsNs, 'http1_bad_chunk_size'); return STOP; }
        if (this.remaining === 0) { this.state = State.Trailers; this.lineLen = 0; }
        else this.state = State.ChunkData;
        return pos;
      }
      if (this.lineLen === 0) { // still in the hex digits
        const d = hexDigit(b);
        if (d >= 0) {
          if (++this.chunkSizeDigits > 12) { this.malformed(ev.tsNs, 'http1_bad_chunk_size'); return STOP; }
          this.remaining = this.remaining * 16 + d;
          continue;
        }
        if (this.chunkSizeDigits === 0) { this.malformed(ev.tsNs, 'http1_bad_chunk_size'); return STOP; }
        this.lineLen = 1; // chunk extension or CR: skipped up to LF
      } else if (++this.lineLen > 4096) { this.malformed(ev.tsNs, 'http1_bad_chunk_size'); return STOP; }
    }
    return pos;
  }

  /** The CRLF after a chunk's data. */
  private atChunkDataEnd(ev: DataEvent, cap: number, pos: number): number {
    if (pos >= cap) { this.capped(ev); return STOP; }
    while (pos < cap) {
      const b = ev.bytes[pos++]!;
      if (b === LF) { this.state = State.ChunkSize; this.startChunk(); return pos; }
      if (b !== CR || this.lineLen !== 0) { this.malformed(ev.tsNs, 'http1_bad_chunk_framing'); return STOP; }
      this.lineLen = 1;
    }
    return pos;
  }

  /** Trailer lines after the last chunk, up to the empty line that ends the message. */
  private inTrailers(ev: DataEvent, cap: number, base: number, pos: number): number {
    if (pos >= cap) { this.capped(ev); return STOP; }
    const bytes = ev.bytes;
    while (pos < cap) {
      const b = bytes[pos++]!;
      if (b === LF) {
        if (this.lineLen === 0) { this.endMessage(base + pos, ev.tsNs, false); return pos; }
        this.lineLen = 0;
      } else if (b !== CR || this.lineLen > 0) {
        this.lineLen++;
      }
    }
    return pos;
  }

  /** Looking for the next message start after lost or unframeable bytes. */
  private resync(ev: DataEvent, cap: number, pos: number): number {
    const total = ev.totalBytes;
    const at = pos >= cap ? -1 : this.findMessageStart(ev.bytes, pos, cap);
    if (at < 0) { this.skipped(total - pos, ev.tsNs); return STOP; }
    this.owner.count('http1_resyncs');
    if (at > pos) this.skipped(at - pos, ev.tsNs);
    if (at > pos) this.skippedTail = true;
    this.state = State.Start;
    return at;
  }

  /** Bytes passed over while looking for a message start: the owner decides what they may have held. */
  private skipped(n: number, ts: number): void {
    this.owner.count('http1_resync_skipped_bytes', n);
    this.owner.onSkipped(this, ts);
  }

  /** Close: a body delimited by close ends now; anything else is incomplete. */
  close(tsNs: number): void {
    if (this.state === State.UntilClose) this.endMessage(this.streamPos, this.lastNs || tsNs, false);
  }

  /** Parses a head held in [start, end) (buffered, or cut short: `cut`) and acts on it. */
  private onHeadBytes(bytes: Uint8Array, start: number, end: number, ev: DataEvent, afterHead: number, cut: boolean): number {
    this.headBytes = end - start;
    if (parseHead(bytes, start, end, this.head, this.maxHeaderCount, true) === HEAD_INVALID) {
      this.malformed(ev.tsNs, 'http1_parse_errors');
      return ev.totalBytes;
    }
    return this.accept(ev, afterHead, cut);
  }

  /** A parsed head (this.head): checks it belongs here, asks the owner how to frame the rest. */
  private accept(ev: DataEvent, afterHead: number, cut: boolean): number {
    const head = this.head;
    if (!this.acceptable(head)) {
      this.malformed(ev.tsNs, 'http1_parse_errors');
      return ev.totalBytes;
    }
    if (cut) head.degraded = true;
    if (head.degraded) this.owner.count('http1_degraded_heads');
    const mode = this.owner.onHead(this, head, ev, afterHead);
    this.skippedTail = false;
    if (head.degraded && mode !== Body.Reject && mode !== Body.Stop) {
      // Framing is unknown after a cut head: report what we have, then wait for the next message.
      this.endMessage(this.messageStartPos + this.headBytes, ev.tsNs, true);
      this.state = State.Resync;
      this.owner.onFramingLoss(this, ev.tsNs);
      return ev.totalBytes;
    }
    switch (mode) {
      case Body.None: this.endMessage(this.messageStartPos + this.headBytes, ev.tsNs, false); break;
      case Body.Length: this.state = State.Length; this.remaining = head.contentLength; break;
      case Body.Chunked: this.state = State.ChunkSize; this.startChunk(); break;
      case Body.UntilClose: this.state = State.UntilClose; break;
      case Body.Stop: this.stop(); return ev.totalBytes;
      case Body.Reject: this.malformed(ev.tsNs, 'http1_parse_errors'); return ev.totalBytes;
      case Body.Skip:
        this.state = State.Resync;
        return afterHead;
      case Body.Unframed:
        this.endMessage(this.messageStartPos + this.headBytes, ev.tsNs, true);
        this.state = State.Resync;
        this.owner.onFramingLoss(this, ev.tsNs);
        return ev.totalBytes;
    }
    return afterHead;
  }

  private acceptable(head: Http1Head): boolean {
    return this.expect === 'any' || this.expect === head.kind;
  }

  private startChunk(): void {
    this.remaining = 0;
    this.chunkSizeDigits = 0;
    this.lineLen = 0;
  }

  private afterBodyPart(ts: number, endPos: number): void {
    if (this.state === State.Length) this.endMessage(endPos, ts, false);
    else { this.state = State.ChunkDataEnd; this.lineLen = 0; }
  }

  private endMessage(endPos: number, ts: number, truncated: boolean): void {
    this.state = State.Start;
    this.owner.onMessageEnd(this, ts, endPos, truncated);
  }

  /** Forget a held head; a large buffer is released so a quiet connection does not keep it. */
  private clearBuf(): void {
    this.bufLen = 0;
    if (this.buf.length > 4096) this.buf = EMPTY;
  }

  private append(bytes: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.buf = ensureCapacity(this.buf, this.bufLen, this.bufLen + n);
    this.buf.set(bytes.subarray(start, end), this.bufLen);
    if (this.bufLen === 0) this.bufScanned = 0;
    this.bufLen += n;
  }

  /** A head cut by capture: report what we have (degraded), then resynchronise. */
  private capped(ev: DataEvent): void {
    this.owner.count('http1_capped_framing');
    if (this.state === State.Head && this.bufLen > 0) {
      const n = this.bufLen;
      const held = this.buf;
      this.clearBuf();
      this.onHeadBytes(held, 0, n, ev, ev.totalBytes, true);
      const now = this.state as State;
      if (now !== State.Resync && now !== State.Stopped) {
        this.state = State.Resync;
        this.owner.onFramingLoss(this, ev.tsNs);
      }
      return;
    }
    this.lose(1, ev.tsNs);
  }

  private tooLarge(bytes: Uint8Array, start: number, end: number, ev: DataEvent, ts: number): void {
    this.owner.count('http1_head_too_large');
    this.clearBuf();
    this.onHeadBytes(bytes, start, Math.min(end, start + this.maxHeaderBytes), ev, ev.totalBytes, true);
    if (this.state !== State.Resync && this.state !== State.Stopped) {
      this.state = State.Resync;
      this.owner.onFramingLoss(this, ts);
    }
  }

  private malformed(ts: number, counter: string): void {
    this.owner.count(counter);
    this.clearBuf();
    this.state = State.Resync;
    this.owner.onFramingLoss(this, ts);
  }

  /** Next plausible message start at `pos` or right after a LF in [pos, cap); -1 when none. */
  private findMessageStart(bytes: Uint8Array, pos: number, cap: number): number {
    if (this.startsHere(bytes, pos, cap, true)) return pos;
    let i = pos;
    for (;;) {
      const lf = indexOfByte(bytes, LF, i);
      if (lf < 0 || lf + 1 >= cap) return -1;
      i = lf + 1;
      if (this.startsHere(bytes, i, cap, false)) return i;
    }
  }

  private startsHere(bytes: Uint8Array, at: number, cap: number, eventStart: boolean): boolean {
    const wantReq = this.expect !== 'response';
    const wantResp = this.expect !== 'request';
    if (eventStart) {
      // At a syscall boundary a known method or a status line prefix is strong enough evidence.
      return (wantReq && looksLikeRequestStart(bytes, at, cap)) || (wantResp && looksLikeResponseStart(bytes, at, cap));
    }
    // Mid-event (after a LF inside a body) demand a whole, valid start line.
    const le = lineEnd(bytes, at, cap);
    if (le < 0) return false;
    const probe = this.head;
    probe.reset();
    if (!parseStartLine(bytes, at, le, probe)) return false;
    return (probe.kind === 'request' && wantReq) || (probe.kind === 'response' && wantResp);
  }
}
