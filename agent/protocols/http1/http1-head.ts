// Parses one HTTP/1.x message head (start line + header fields) straight from bytes into a reused
// Http1Head. Only the fields the agent reports or needs for framing are turned into strings;
// credentials (Authorization, Cookie, ...) are recorded by name only, never by value.
import { containsLower, equalsLower, indexOfByte, latin1, parseDecimal } from '../common/byte-text.js';

const CR = 13, LF = 10, SP = 32, HT = 9, COLON = 58;

const KNOWN_METHODS = [
  'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'SEARCH', 'PURGE', 'REPORT', 'QUERY',
];
/** Known methods by length, so a token becomes an interned string without allocation. */
const METHODS_BY_LENGTH: string[][] = [];
for (const m of KNOWN_METHODS) (METHODS_BY_LENGTH[m.length] ??= []).push(m);

/** tchar (RFC 9110 §5.6.2) */
const TCHAR = new Uint8Array(256);
for (let c = 0x21; c < 0x7f; c++) TCHAR[c] = 1;
for (const ch of '"(),/:;<=>?@[\\]{}') TCHAR[ch.charCodeAt(0)] = 0;

export type HeadKind = 'request' | 'response';

export class Http1Head {
  kind: HeadKind = 'request';
  method = '';
  target = '';
  versionMinor = 1;
  status = 0;
  /** -1: no Content-Length */
  contentLength = -1;
  chunked = false;
  connectionClose = false;
  connectionKeepAlive = false;
  /** Lower-cased Upgrade header value ('' when absent), e.g. 'websocket', 'h2c'. */
  upgrade = '';
  host: string | undefined = undefined;
  userAgent: string | undefined = undefined;
  traceparent: string | undefined = undefined;
  tracestate: string | undefined = undefined;
  /** Names of credential headers present (values are not kept). */
  sensitive: string[] | undefined = undefined;
  headerCount = 0;
  /** Head incomplete (capped capture or over a bound): fields may be missing. */
  degraded = false;
  /** Framing headers are unusable (bad or conflicting Content-Length): the body length is unknown. */
  badFraming = false;

  reset(): void {
    this.method = ''; this.target = ''; this.versionMinor = 1; this.status = 0;
    this.contentLength = -1; this.chunked = false; this.connectionClose = false; this.connectionKeepAlive = false;
    this.upgrade = ''; this.host = undefined; this.userAgent = undefined; this.traceparent = undefined;
    this.tracestate = undefined; this.sensitive = undefined; this.headerCount = 0; this.degraded = false; this.badFraming = false;
  }
}

/** Index just past the LF of the line starting at `start`, or -1 when the line is not complete in [start, end). */
export function lineEnd(bytes: Uint8Array, start: number, end: number): number {
  const i = indexOfByte(bytes, LF, start);
  return i < 0 || i >= end ? -1 : i + 1;
}

/**
 * Finds the end of a head starting at `start`: the index just past the empty line, or -1.
 * `from` lets a caller resume a search over a growing buffer.
 */
export function findHeadEnd(bytes: Uint8Array, start: number, end: number, from = start): number {
  let i = Math.max(start, from);
  for (;;) {
    const lf = indexOfByte(bytes, LF, i);
    if (lf < 0 || lf >= end) return -1;
    // An empty line: LF LF, or LF CR LF.
    const n = lf + 1;
    if (n < end) {
      const b = bytes[n]!;
      if (b === LF) return n + 1;
      if (b === CR && n + 1 < end && bytes[n + 1] === LF) return n + 2;
    } else {
      return -1;
    }
    i = n;
  }
}

function methodString(bytes: Uint8Array, start: number, end: number): string {
  const list = METHODS_BY_LENGTH[end - start];
  if (list !== undefined) {
    outer: for (const m of list) {
      for (let i = 0; i < m.length; i++) if (bytes[start + i] !== m.charCodeAt(i)) continue outer;
      return m;
    }
  }
  return latin1(bytes, start, end);
}

/** Is [start, ...) the beginning of a request line with a known method ("GET ")? Used to resynchronise. */
export function looksLikeRequestStart(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  while (i < end && i - start <= 10 && bytes[i]! >= 65 && bytes[i]! <= 90) i++;
  if (i === start || i >= end || bytes[i] !== SP) return false;
  const list = METHODS_BY_LENGTH[i - start];
  if (list === undefined) return false;
  outer: for (const m of list) {
    for (let k = 0; k < m.length; k++) if (bytes[start + k] !== m.charCodeAt(k)) continue outer;
    return true;
  }
  return false;
}

/** Is [start, ...) the beginning of a status line ("HTTP/1.1 200")? */
export function looksLikeResponseStart(bytes: Uint8Array, start: number, end: number): boolean {
  if (end - start < 12) return false;
  return bytes[start] === 72 && bytes[start + 1] === 84 && bytes[start + 2] === 84 && bytes[start + 3] === 80 &&
    bytes[start + 4] === 47 && bytes[start + 5] === 49 && bytes[start + 6] === 46 && (bytes[start + 7] === 49 || bytes[start + 7] === 48) &&
    bytes[start + 8] === SP && isDigit(bytes[start + 9]!) && isDigit(bytes[start + 10]!) && isDigit(bytes[start + 11]!);
}

function isDigit(b: number): boolean {
  return b >= 48 && b <= 57;
}

/** Strips the line terminator: index of the CR/LF that ends the line content. */
function contentEnd(bytes: Uint8Array, start: number, lineStop: number): number {
  let e = lineStop;
  if (e > start && bytes[e - 1] === LF) e--;
  if (e > start && bytes[e - 1] === CR) e--;
  return e;
}

/**
 * Parses a start line [start, stop) (stop just past its LF, or the end of captured bytes when the
 * line is cut). Sets head.kind and its fields. Returns false when it is not an HTTP/1.x start line.
 */
export function parseStartLine(bytes: Uint8Array, start: number, stop: number, head: Http1Head): boolean {
  const end = contentEnd(bytes, start, stop);
  if (bytes[start] === 72 && looksLikeResponseStart(bytes, start, end)) {
    if (end > start + 12 && bytes[start + 12] !== SP) return false;
    head.kind = 'response';
    head.versionMinor = bytes[start + 7]! - 48;
    head.status = (bytes[start + 9]! - 48) * 100 + (bytes[start + 10]! - 48) * 10 + (bytes[start + 11]! - 48);
    return true;
  }
  // METHOD SP target SP HTTP/1.x
  let i = start;
  while (i < end && TCHAR[bytes[i]!] === 1) i++;
  const mEnd = i;
  if (mEnd === start || mEnd - start > 24 || i >= end || bytes[i] !== SP) return false;
  const tStart = ++i;
  while (i < end && bytes[i]! > SP && bytes[i] !== 0x7f) i++;
  const tEnd = i;
  if (tEnd === tStart || i >= end || bytes[i] !== SP) return false;
  if (end - i !== 9 || bytes[i + 1] !== 72 || bytes[i + 2] !== 84 || bytes[i + 3] !== 84 || bytes[i + 4] !== 80 ||
    bytes[i + 5] !== 47 || bytes[i + 6] !== 49 || bytes[i + 7] !== 46 || !isDigit(bytes[i + 8]!)) return false;
  head.kind = 'request';
  head.method = methodString(bytes, start, mEnd);
  head.target = latin1(bytes, tStart, tEnd);
  head.versionMinor = bytes[i + 8]! - 48;
  return true;
}

function addSensitive(head: Http1Head, name: string): void {
  if (head.sensitive === undefined) head.sensitive = [name];
  else if (!head.sensitive.includes(name)) head.sensitive.push(name);
}

function field(b: Uint8Array, n: number, len: number, vs: number, ve: number, head: Http1Head): void {
  switch (len) {
    case 4:
      if (equalsLower(b, n, 'host')) head.host = latin1(b, vs, ve);
      return;
    case 6:
      if (equalsLower(b, n, 'cookie')) addSensitive(head, 'cookie');
      return;
    case 7:
      if (equalsLower(b, n, 'upgrade')) head.upgrade = latin1(b, vs, ve).toLowerCase();
      return;
    case 10:
      if (equalsLower(b, n, 'user-agent')) head.userAgent = latin1(b, vs, ve);
      else if (equalsLower(b, n, 'connection')) {
        if (containsLower(b, vs, ve, 'close')) head.connectionClose = true;
        if (containsLower(b, vs, ve, 'keep-alive')) head.connectionKeepAlive = true;
      } else if (equalsLower(b, n, 'tracestate')) head.tracestate = latin1(b, vs, ve);
      else if (equalsLower(b, n, 'set-cookie')) addSensitive(head, 'set-cookie');
      return;
    case 11:
      if (equalsLower(b, n, 'traceparent')) head.traceparent = latin1(b, vs, ve);
      return;
    case 13:
      if (equalsLower(b, n, 'authorization')) addSensitive(head, 'authorization');
      return;
    case 14:
      if (equalsLower(b, n, 'content-length')) {
        const v = parseDecimal(b, vs, ve);
        if (v < 0 || (head.contentLength >= 0 && head.contentLength !== v)) head.badFraming = true;
        else head.contentLength = v;
      }
      return;
    case 17:
      if (equalsLower(b, n, 'transfer-encoding')) {
        // chunked must be the final coding (RFC 9112 §6.3); anything else leaves the length unknown.
        head.chunked = ve - vs >= 7 && equalsLower(b, ve - 7, 'chunked');
        if (!head.chunked) head.badFraming = true;
      }
      return;
    case 19:
      if (equalsLower(b, n, 'proxy-authorization')) addSensitive(head, 'proxy-authorization');
      return;
    default:
      return;
  }
}

/** parseHead results besides an end index. */
export const HEAD_INCOMPLETE = -1;
export const HEAD_INVALID = -2;

/**
 * One pass over a head at `start`: start line, then each header line scanned once for its colon
 * and its LF. Returns the index just past the empty line, HEAD_INCOMPLETE when the head does not
 * end before `end` (with `partial`, what is there is parsed, head.degraded is set and `end` is
 * returned), or HEAD_INVALID when the start line is not HTTP/1.x.
 */
export function parseHead(bytes: Uint8Array, start: number, end: number, head: Http1Head, maxHeaders: number, partial: boolean): number {
  head.reset();
  const lf = indexOfByte(bytes, LF, start);
  if (lf < 0 || lf >= end) {
    if (!partial) return HEAD_INCOMPLETE;
    if (!parseStartLine(bytes, start, end, head)) return HEAD_INVALID;
    head.degraded = true;
    return end;
  }
  if (!parseStartLine(bytes, start, lf + 1, head)) return HEAD_INVALID;
  let pos = lf + 1;
  for (;;) {
    if (pos >= end) break;
    const first = bytes[pos]!;
    if (first === LF) return pos + 1;
    if (first === CR) {
      if (pos + 1 >= end) break;
      if (bytes[pos + 1] === LF) return pos + 2;
    }
    let colon = -1;
    let i = pos;
    for (; i < end; i++) {
      const c = bytes[i]!;
      if (c === LF) break;
      if (c === COLON && colon < 0) colon = i;
    }
    if (i >= end) break; // line cut short
    if (first !== SP && first !== HT && colon > pos) { // (obsolete folded lines and non-fields are skipped)
      if (++head.headerCount <= maxHeaders) {
        let ve = i;
        if (ve > colon && bytes[ve - 1] === CR) ve--;
        let vs = colon + 1;
        while (vs < ve && (bytes[vs] === SP || bytes[vs] === HT)) vs++;
        while (ve > vs && (bytes[ve - 1] === SP || bytes[ve - 1] === HT)) ve--;
        field(bytes, pos, colon - pos, vs, ve, head);
      } else {
        head.degraded = true;
      }
    }
    pos = i + 1;
  }
  if (!partial) return HEAD_INCOMPLETE;
  head.degraded = true;
  return end;
}
