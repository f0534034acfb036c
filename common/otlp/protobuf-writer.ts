// A minimal protobuf wire-format writer for OTLP (common/otlp/trace-encoder.ts): one growable buffer,
// nested messages length-prefixed in place (reserve one byte, shift the body if the length needs
// more). Only the wire types OTLP spans use: varint, fixed32, fixed64, length-delimited.
const HEX = new Uint8Array(128);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) { HEX[97 + i] = 10 + i; HEX[65 + i] = 10 + i; }

export class ProtobufWriter {
  buf: Buffer;
  pos = 0;
  private readonly stack: number[] = [];

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  reset(): void {
    this.pos = 0;
    this.stack.length = 0;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(v: number): void {
    this.ensure(10);
    const b = this.buf;
    while (v > 0x7f) {
      b[this.pos++] = (v & 0x7f) | 0x80;
      v = v > 0xffffffff ? Math.floor(v / 128) : v >>> 7;
    }
    b[this.pos++] = v;
  }

  /** Varint of an exact 64-bit value from its 32-bit halves. */
  varint64(lo: number, hi: number): void {
    this.ensure(10);
    const b = this.buf;
    while (hi !== 0 || lo > 0x7f) {
      b[this.pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    b[this.pos++] = lo;
  }

  tag(field: number, wire: number): void {
    this.varint((field << 3) | wire);
  }

  uint(field: number, v: number): void {
    if (v === 0) return;
    this.tag(field, 0);
    this.varint(v);
  }

  /** int64 field; negative values take the 10-byte two's complement form. */
  int64(field: number, v: number): void {
    this.tag(field, 0);
    if (v >= 0) { this.varint(v); return; }
    const big = BigInt.asUintN(64, BigInt(Math.trunc(v)));
    this.ensure(10);
    let x = big;
    while (x > 0x7fn) { this.buf[this.pos++] = Number(x & 0x7fn) | 0x80; x >>= 7n; }
    this.buf[this.pos++] = Number(x);
  }

  bool(field: number, v: boolean): void {
    this.tag(field, 0);
    this.varint(v ? 1 : 0);
  }

  double(field: number, v: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
  }

  fixed32(field: number, v: number): void {
    this.tag(field, 5);
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }

  /** fixed64 from an exact (hi, lo) pair of 32-bit halves. */
  fixed64(field: number, hi: number, lo: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.buf.writeUInt32LE(lo >>> 0, this.pos);
    this.buf.writeUInt32LE(hi >>> 0, this.pos + 4);
    this.pos += 8;
  }

  string(field: number, s: string): void {
    this.tag(field, 2);
    const len = s.length;
    // ASCII fast path in JS: Buffer.write crosses into C++ and costs more than the copy for short strings.
    if (len < 128) {
      this.ensure(1 + len * 3);
      const b = this.buf;
      let p = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        b[p++] = c;
      }
      if (i === len) {
        b[this.pos] = len;
        this.pos = p;
        return;
      }
    }
    const max = len * 3;
    if (max < 128) {
      this.ensure(1 + max);
      const n = this.buf.write(s, this.pos + 1, 'utf8');
      this.buf[this.pos] = n;
      this.pos += 1 + n;
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.buf.write(s, this.pos, 'utf8');
    this.pos += n;
  }

  /** Bytes from a lower-case hex id (trace/span ids). */
  hexBytes(field: number, hex: string): void {
    this.tag(field, 2);
    const n = hex.length >>> 1;
    this.varint(n);
    this.ensure(n);
    const b = this.buf;
    for (let i = 0; i < n; i++) b[this.pos + i] = (HEX[hex.charCodeAt(2 * i)]! << 4) | HEX[hex.charCodeAt(2 * i + 1)]!;
    this.pos += n;
  }

  /** Length-delimited bytes; empty ones are left out unless `always` (a oneof member must show). */
  bytes(field: number, v: Uint8Array, always = false): void {
    if (v.length === 0 && !always) return;
    this.tag(field, 2);
    this.varint(v.length);
    this.raw(v);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** Starts a length-delimited sub-message. */
  fork(field: number): void {
    this.tag(field, 2);
    this.ensure(1);
    this.stack.push(this.pos);
    this.pos += 1; // one length byte reserved; most span sub-messages fit in < 128 bytes
  }

  /** Ends the sub-message begun by the matching fork. */
  ldelim(): void {
    const at = this.stack.pop()!;
    const len = this.pos - at - 1;
    if (len < 128) {
      this.buf[at] = len;
      return;
    }
    let extra = 0;
    for (let v = len >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(at + 1 + extra, at + 1, this.pos);
    let p = at;
    let v = len;
    while (v > 0x7f) { this.buf[p++] = (v & 0x7f) | 0x80; v >>>= 7; }
    this.buf[p] = v;
    this.pos += extra;
  }

  /** A copy of what was written (a Buffer: the writer's own memory is reused). */
  finish(): Buffer {
    return Uint8Array.prototype.slice.call(this.buf, 0, this.pos) as Buffer;
  }
}
