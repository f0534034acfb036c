// HTTP/2 frame-layer constants and the frame-header shape check used to find frame boundaries
// again after lost bytes or when a connection is picked up mid-stream (RFC 9113 section 4, 6).

export const FRAME_HEADER_LEN = 9;
export const enum FrameType {
  DATA = 0, HEADERS = 1, PRIORITY = 2, RST_STREAM = 3, SETTINGS = 4,
  PUSH_PROMISE = 5, PING = 6, GOAWAY = 7, WINDOW_UPDATE = 8, CONTINUATION = 9,
}
export const enum Flag { END_STREAM = 0x1, ACK = 0x1, END_HEADERS = 0x4, PADDED = 0x8, PRIORITY = 0x20 }

export const CLIENT_PREFACE = Uint8Array.from(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'));
export const DEFAULT_MAX_FRAME_SIZE = 16384;
export const MAX_MAX_FRAME_SIZE = 16777215;

export interface FrameHeader {
  length: number;
  type: number;
  flags: number;
  streamId: number;
}

export function readFrameHeader(b: Uint8Array, p: number): FrameHeader {
  return {
    length: (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!,
    type: b[p + 3]!,
    flags: b[p + 4]!,
    streamId: ((b[p + 5]! & 0x7f) * 0x1000000) + ((b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!),
  };
}

// Flags each type may carry; anything else marks a header as implausible during resync.
const ALLOWED_FLAGS = [0x09, 0x2d, 0x00, 0x00, 0x01, 0x0c, 0x01, 0x00, 0x00, 0x04];

/**
 * Strict plausibility check of the 9 bytes at p, for resynchronisation only (normal parsing
 * accepts what RFC 9113 accepts). Streams that carry requests are odd: servers rarely push.
 */
export function plausibleFrameHeader(b: Uint8Array, p: number, maxFrameSize: number): boolean {
  const length = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
  const type = b[p + 3]!;
  const flags = b[p + 4]!;
  if (type > 9 || length > maxFrameSize || (b[p + 5]! & 0x80) !== 0) return false;
  if ((flags & ~ALLOWED_FLAGS[type]!) !== 0) return false;
  const sid = ((b[p + 5]! & 0x7f) * 0x1000000) + ((b[p + 6]! << 16) | (b[p + 7]! << 8) | b[p + 8]!);
  switch (type) {
    case FrameType.DATA: case FrameType.HEADERS: case FrameType.CONTINUATION:
      return sid % 2 === 1;
    case FrameType.PRIORITY: return sid !== 0 && length === 5;
    case FrameType.RST_STREAM: return sid !== 0 && length === 4;
    case FrameType.SETTINGS: return sid === 0 && length % 6 === 0 && (!(flags & Flag.ACK) || length === 0);
    case FrameType.PUSH_PROMISE: return sid % 2 === 1 && length >= 4;
    case FrameType.PING: return sid === 0 && length === 8;
    case FrameType.GOAWAY: return sid === 0 && length >= 8;
    case FrameType.WINDOW_UPDATE: return length === 4;
  }
  return false;
}

/** Header checks one resync search may spend before giving up on the chunk. */
export const RESYNC_CHECK_BUDGET = 1 << 16;

/**
 * Looks for a frame boundary in b[from, end) such that consecutive plausible headers chain from it
 * to exactly `end` (the end of the captured bytes), or chain through at least two headers and run
 * past it. Offset `from` itself (a syscall boundary) may also stand with one header running past.
 * Returns the offset, or -1.
 */
export function findFrameBoundary(b: Uint8Array, from: number, end: number, maxFrameSize: number): number {
  // Chains of tiny plausible frames ending in junk could make this quadratic: cap the work.
  let budget = RESYNC_CHECK_BUDGET;
  for (let c = from; c + FRAME_HEADER_LEN <= end; c++) {
    let p = c;
    let headers = 0;
    while (p + FRAME_HEADER_LEN <= end && --budget > 0 && plausibleFrameHeader(b, p, maxFrameSize)) {
      headers++;
      p += FRAME_HEADER_LEN + ((b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!);
    }
    if (budget <= 0) return -1;
    if (headers === 0 || p + FRAME_HEADER_LEN <= end) continue; // an implausible header in the chain
    if (p === end) return c;
    if (headers >= 2 || c === from) return c; // the last frame runs past the captured bytes
  }
  return -1;
}
