// Splits one direction of an HTTP/2 connection into frames. Frame payloads the parser needs
// (HEADERS, CONTINUATION, SETTINGS, RST_STREAM, GOAWAY, PUSH_PROMISE, PRIORITY) are buffered up to a
// bound; DATA, PING and WINDOW_UPDATE are skipped by count, so capped captures and lost bytes inside
// them cost nothing. When bytes of a frame header are lost the reader hunts for the next plausible
// frame boundary and tells its handler the stream desynchronised.
import {
  CLIENT_PREFACE, DEFAULT_MAX_FRAME_SIZE, FRAME_HEADER_LEN, FrameType, findFrameBoundary, readFrameHeader,
  type FrameHeader,
} from './http2-frames.js';

export interface FrameHandler {
  /** A whole frame; `payload` is only valid during the call. `truncated`: payload is a captured prefix. */
  frame(h: FrameHeader, payload: Uint8Array, truncated: boolean, tsNs: number): void;
  /** The client connection preface went by. */
  preface(): void;
  /** Sync lost (reason: 'gap', 'capped', 'bad_preface', 'frame_too_large', 'midstream'). */
  desync(reason: string): void;
  /** While hunting: `skipped` captured bytes passed; `found`: a frame boundary was found after them. */
  resync(skipped: number, found: boolean): void;
}

type State = 'start' | 'preface' | 'head' | 'buffer' | 'skip' | 'hunt';
const EMPTY = new Uint8Array(0);
const BUFFERED = new Set<number>([
  FrameType.HEADERS, FrameType.PRIORITY, FrameType.RST_STREAM, FrameType.SETTINGS,
  FrameType.PUSH_PROMISE, FrameType.GOAWAY, FrameType.CONTINUATION,
]);

export class FrameReader {
  /** Largest frame the peer allowed (SETTINGS_MAX_FRAME_SIZE it received); frames above it are errors. */
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  private state: State = 'start';
  private prefaceGot = 0;
  private startBuf = EMPTY;
  private readonly hbuf = new Uint8Array(FRAME_HEADER_LEN);
  private hlen = 0;
  private cur: FrameHeader = { length: 0, type: 0, flags: 0, streamId: 0 };
  private payload = EMPTY;
  private filled = 0;
  private remain = 0;
  /** While skipping: deliver the frame at its end (false for the tail of an already delivered one). */
  private deliverAfterSkip = false;

  constructor(private readonly handler: FrameHandler, private readonly maxBufferedPayload = 1 << 20) {}

  bufferedBytes(): number { return this.startBuf.length + this.hlen + (this.state === 'buffer' ? this.payload.length : 0); }
  get inSync(): boolean { return this.state !== 'hunt'; }

  /** Captured bytes of one syscall; `total` > b.length means the rest was not captured. */
  push(b: Uint8Array, total: number, tsNs: number): void {
    if (this.state === 'start') {
      // Too few bytes to judge the first frame header: keep them until the next chunk.
      if (this.startBuf.length > 0) {
        const joined = new Uint8Array(this.startBuf.length + b.length);
        joined.set(this.startBuf); joined.set(b, this.startBuf.length);
        total += this.startBuf.length; b = joined; this.startBuf = EMPTY;
      }
      if (b.length < FRAME_HEADER_LEN && total === b.length && !isPrefacePrefix(b)) { this.startBuf = b.slice(); return; }
    }
    const c = b.length;
    let p = 0;
    if (this.state === 'start' && c > 0) {
      if (isPrefacePrefix(b)) this.state = 'preface';
      else if (findFrameBoundary(b, 0, c, this.maxFrameSize) === 0) this.state = 'head';
      else { this.state = 'hunt'; this.handler.desync('midstream'); }
    }
    while (p < c) {
      switch (this.state) {
        case 'preface': {
          const n = Math.min(CLIENT_PREFACE.length - this.prefaceGot, c - p);
          let ok = true;
          for (let i = 0; i < n; i++) if (b[p + i] !== CLIENT_PREFACE[this.prefaceGot + i]) { ok = false; break; }
          if (!ok) { this.toHunt('bad_preface'); break; }
          this.prefaceGot += n; p += n;
          if (this.prefaceGot === CLIENT_PREFACE.length) { this.state = 'head'; this.handler.preface(); }
          break;
        }
        case 'head': {
          let h: FrameHeader;
          if (this.hlen === 0 && c - p >= FRAME_HEADER_LEN) {
            h = readFrameHeader(b, p); p += FRAME_HEADER_LEN;
          } else {
            const n = Math.min(FRAME_HEADER_LEN - this.hlen, c - p);
            this.hbuf.set(b.subarray(p, p + n), this.hlen);
            this.hlen += n; p += n;
            if (this.hlen < FRAME_HEADER_LEN) break;
            this.hlen = 0;
            h = readFrameHeader(this.hbuf, 0);
          }
          if (h.length > this.maxFrameSize) { this.toHunt('frame_too_large'); break; }
          this.cur = h;
          if (!BUFFERED.has(h.type) || h.length > this.maxBufferedPayload) {
            this.remain = h.length; this.deliverAfterSkip = true; this.state = 'skip';
            if (h.length === 0) this.endSkip(tsNs);
          } else if (h.length === 0) {
            this.handler.frame(h, EMPTY, false, tsNs);
          } else if (c - p >= h.length) { // whole payload in this chunk: no copy
            const payload = b.subarray(p, p + h.length);
            p += h.length;
            this.handler.frame(h, payload, false, tsNs);
          } else {
            this.payload = new Uint8Array(h.length); this.filled = 0; this.state = 'buffer';
          }
          break;
        }
        case 'buffer': {
          const n = Math.min(this.payload.length - this.filled, c - p);
          this.payload.set(b.subarray(p, p + n), this.filled);
          this.filled += n; p += n;
          if (this.filled === this.payload.length) {
            const payload = this.payload;
            this.payload = EMPTY; this.state = 'head';
            this.handler.frame(this.cur, payload, false, tsNs);
          }
          break;
        }
        case 'skip': {
          const n = Math.min(this.remain, c - p);
          this.remain -= n; p += n;
          if (this.remain === 0) this.endSkip(tsNs);
          break;
        }
        case 'hunt': {
          const q = findFrameBoundary(b, p, c, this.maxFrameSize);
          const skipped = (q < 0 ? c : q) - p;
          if (q < 0) { p = c; this.handler.resync(skipped, false); break; }
          p = q; this.state = 'head'; this.hlen = 0;
          this.handler.resync(skipped, true);
          break;
        }
        case 'start': break; // unreachable: c > 0 resolved it above
      }
    }
    if (total > c) this.lose(total - c, tsNs, 'capped');
  }

  /** `n` stream bytes will never be seen (gap, or the uncaptured tail of a capped syscall). */
  lose(n: number, tsNs: number, reason: 'gap' | 'capped'): void {
    if (n <= 0) return;
    switch (this.state) {
      case 'skip':
        if (n <= this.remain) { this.remain -= n; if (this.remain === 0) this.endSkip(tsNs); return; }
        n -= this.remain; this.remain = 0; this.endSkip(tsNs);
        this.toHunt(reason);
        return;
      case 'buffer': {
        const rest = this.payload.length - this.filled;
        const prefix = this.payload.subarray(0, this.filled);
        this.payload = EMPTY;
        this.handler.frame(this.cur, prefix, true, tsNs);
        if (n < rest) { this.remain = rest - n; this.deliverAfterSkip = false; this.state = 'skip'; }
        else if (n === rest) this.state = 'head';
        else this.toHunt(reason);
        return;
      }
      case 'hunt': return;
      default: // inside a frame header, the preface, between frames, or before any byte
        this.hlen = 0; this.startBuf = EMPTY;
        this.toHunt(this.state === 'start' ? 'midstream' : reason);
    }
  }

  private endSkip(tsNs: number): void {
    this.state = 'head';
    if (this.deliverAfterSkip) {
      this.deliverAfterSkip = false;
      // A skipped buffered-type frame (over the payload bound) is delivered as truncated.
      this.handler.frame(this.cur, EMPTY, BUFFERED.has(this.cur.type) && this.cur.length > 0, tsNs);
    }
  }

  private toHunt(reason: string): void {
    this.state = 'hunt'; this.hlen = 0; this.payload = EMPTY;
    this.handler.desync(reason);
  }
}

function isPrefacePrefix(b: Uint8Array): boolean {
  const n = Math.min(b.length, CLIENT_PREFACE.length);
  for (let i = 0; i < n; i++) if (b[i] !== CLIENT_PREFACE[i]) return false;
  return true;
}
