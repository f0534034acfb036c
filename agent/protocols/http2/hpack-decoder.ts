// HPACK decoder (RFC 7541) for one direction of one connection, built for passive capture: it
// never throws, keeps every header it can decode, and degrades instead of failing when the stream
// was picked up mid-way or bytes were lost. After a desync the dynamic table is cleared: entries
// inserted from then on sit at the front of the real table too, so their indices stay right, and a
// reference beyond them is an entry we never saw — reported as unknown, not guessed.
import { huffmanDecode } from './hpack-huffman.js';
import { STATIC_COUNT, STATIC_TABLE } from './hpack-static-table.js';

export interface HpackResult {
  /** Decoded headers as [name0, value0, name1, value1, ...]; latin1 strings. Unknown names are ''. */
  headers: string[];
  /** References to dynamic-table entries this decoder never saw (mid-stream pickup, lost bytes). */
  unknownRefs: number;
  /** Literals whose Huffman code was malformed (their header is dropped). */
  badLiterals: number;
  /** The block ended inside an instruction (capped capture): decoding stopped there. */
  truncated: boolean;
  /** The block is malformed beyond a bad literal: the table is no longer trustworthy. */
  malformed: boolean;
  /**
   * Dynamic table size updates above the limit the decoding peer announced (RFC 7541 4.2: a
   * decoding error for that peer). The table is held to the limit, which stays safe: it keeps the
   * newest entries, a prefix of the encoder's table, so indices stay right and older ones are unknown.
   */
  oversizedUpdates: number;
}

const ENTRY_OVERHEAD = 32;
const MAX_INT = 1 << 28;

export class HpackDecoder {
  /** True once the table may be missing entries (set by desync(), cleared never: it is a history). */
  degraded = false;
  private names: string[] = [];
  private values: string[] = [];
  private head = 0; // index of the oldest live entry in names/values
  private size = 0;
  private maxSize: number;
  /** The decoding peer's limit (SETTINGS_HEADER_TABLE_SIZE, else the initial one): size updates
   *  above it are flagged and clamped to it (and to our hard cap). */
  private limit: number;
  /** SETTINGS_HEADER_TABLE_SIZE was seen: the limit is the peer's, not the initial default. */
  private announced = false;

  constructor(initialMax = 4096, private readonly hardCap = 65536) {
    this.maxSize = Math.min(initialMax, hardCap);
    this.limit = initialMax;
  }

  get entryCount(): number { return this.names.length - this.head; }
  get tableSize(): number { return this.size; }

  /** SETTINGS_HEADER_TABLE_SIZE from the peer that decodes this direction. */
  setAllowedMax(n: number): void { this.limit = n; this.announced = true; }

  /** Forget the dynamic table: bytes were lost, so what the encoder inserted is unknown. */
  desync(): void {
    this.names = []; this.values = []; this.head = 0; this.size = 0;
    this.degraded = true;
  }

  decode(buf: Uint8Array, start: number, end: number): HpackResult {
    const res: HpackResult = { headers: [], unknownRefs: 0, badLiterals: 0, truncated: false, malformed: false, oversizedUpdates: 0 };
    let p = start;
    const out = res.headers;
    while (p < end) {
      const b = buf[p]!;
      if (b & 0x80) { // indexed header field
        const r = readInt(buf, p, end, 7);
        if (r < 0) { if (r === -1) res.truncated = true; else res.malformed = true; break; }
        p = intEnd;
        if (r === 0) { res.malformed = true; break; }
        if (!this.pushIndexed(r, out)) res.unknownRefs++;
      } else if ((b & 0xe0) === 0x20) { // dynamic table size update
        const r = readInt(buf, p, end, 5);
        if (r < 0) { if (r === -1) res.truncated = true; else res.malformed = true; break; }
        p = intEnd;
        // After a pickup or loss with no SETTINGS seen since, the default limit is only an assumption.
        // (A limit lowered just now may not have reached the encoder yet: SETTINGS apply when received.)
        if (r > this.limit && (this.announced || !this.degraded)) res.oversizedUpdates++;
        this.maxSize = Math.min(r, this.limit, this.hardCap);
        this.evict(0);
      } else { // literal: 01 incremental indexing (6-bit prefix), 0000 without / 0001 never (4-bit)
        const indexing = (b & 0xc0) === 0x40;
        const r = readInt(buf, p, end, indexing ? 6 : 4);
        if (r < 0) { if (r === -1) res.truncated = true; else res.malformed = true; break; }
        p = intEnd;
        let name: string | undefined;
        let nameKnown = true;
        if (r === 0) {
          const s = readString(buf, p, end);
          if (s === TRUNCATED) { res.truncated = true; break; }
          if (s === MALFORMED) { res.malformed = true; break; }
          p = intEnd;
          if (s === undefined) { res.badLiterals++; nameKnown = false; name = ''; } else name = s;
        } else {
          name = this.nameAt(r);
          if (name === undefined) { res.unknownRefs++; nameKnown = false; name = ''; }
        }
        const v = readString(buf, p, end);
        if (v === TRUNCATED) { res.truncated = true; break; }
        if (v === MALFORMED) { res.malformed = true; break; }
        p = intEnd;
        const value = v ?? '';
        if (v === undefined) res.badLiterals++;
        // Insert even when partly unknown so later indices stay aligned with the encoder's table.
        if (indexing) this.insert(name, value);
        if (nameKnown && v !== undefined) out.push(name, value);
      }
    }
    return res;
  }

  private pushIndexed(idx: number, out: string[]): boolean {
    if (idx <= STATIC_COUNT) { const e = STATIC_TABLE[idx]!; out.push(e[0], e[1]); return true; }
    const d = idx - STATIC_COUNT - 1;
    if (d >= this.entryCount) return false;
    const at = this.names.length - 1 - d;
    const n = this.names[at]!;
    if (n === '') return false; // inserted with a name we could not know
    out.push(n, this.values[at]!);
    return true;
  }

  private nameAt(idx: number): string | undefined {
    if (idx <= STATIC_COUNT) return STATIC_TABLE[idx]![0];
    const d = idx - STATIC_COUNT - 1;
    if (d >= this.entryCount) return undefined;
    const n = this.names[this.names.length - 1 - d]!;
    return n === '' ? undefined : n;
  }

  private insert(name: string, value: string): void {
    const sz = name.length + value.length + ENTRY_OVERHEAD;
    if (sz > this.maxSize) { this.evict(this.maxSize + 1); return; } // clears the table (RFC 7541 4.4)
    this.evict(sz);
    this.names.push(name); this.values.push(value);
    this.size += sz;
  }

  /** Evict oldest entries until `incoming` more octets fit. */
  private evict(incoming: number): void {
    while (this.size + incoming > this.maxSize && this.head < this.names.length) {
      this.size -= this.names[this.head]!.length + this.values[this.head]!.length + ENTRY_OVERHEAD;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.names.length) {
      this.names = this.names.slice(this.head); this.values = this.values.slice(this.head); this.head = 0;
    }
  }
}

// Cursor shared by the readers below (module-level to avoid allocating a result per integer).
let intEnd = 0;
const TRUNCATED = -1 as const;
const MALFORMED = -2 as const;

/** Prefix integer (RFC 7541 5.1). Returns the value and sets intEnd, or -1 truncated / -2 too large. */
function readInt(buf: Uint8Array, p: number, end: number, prefix: number): number {
  const mask = (1 << prefix) - 1;
  let v = buf[p]! & mask;
  p++;
  if (v < mask) { intEnd = p; return v; }
  let m = 0;
  for (;;) {
    if (p >= end) return TRUNCATED;
    const b = buf[p++]!;
    v += (b & 0x7f) * 2 ** m;
    if (v > MAX_INT) return MALFORMED;
    if ((b & 0x80) === 0) break;
    m += 7;
  }
  intEnd = p;
  return v;
}

/** String literal (RFC 7541 5.2). undefined = bad Huffman code (length still consumed). */
function readString(buf: Uint8Array, p: number, end: number): string | undefined | typeof TRUNCATED | typeof MALFORMED {
  if (p >= end) return TRUNCATED;
  const huff = (buf[p]! & 0x80) !== 0;
  const len = readInt(buf, p, end, 7);
  if (len < 0) return len as typeof TRUNCATED | typeof MALFORMED;
  const s = intEnd;
  const e = s + len;
  if (e > end) return TRUNCATED;
  intEnd = e;
  return huff ? huffmanDecode(buf, s, e) : latin1(buf, s, e);
}

export function latin1(buf: Uint8Array, s: number, e: number): string {
  if (e - s < 24) {
    let out = '';
    for (let i = s; i < e; i++) out += String.fromCharCode(buf[i]!);
    return out;
  }
  return Buffer.prototype.latin1Slice.call(buf, s, e);
}
