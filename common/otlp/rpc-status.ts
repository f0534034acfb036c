// google.rpc.Status (the body of an OTLP/HTTP error and gRPC's grpc-status-details-bin), read by a
// few lines of wire-format decoding rather than a protobuf library: the agent needs only this one
// message, and loading a full schema for it cost about 1 MB and 35 ms at start.
// Fields: Status{1 code int32, 2 message string, 3 details Any}; Any{1 type_url, 2 value};
// RetryInfo{1 retry_delay Duration}; Duration{1 seconds int64, 2 nanos int32}.
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** retryDelayMs is set when a google.rpc.RetryInfo detail is present (0 when it names no delay). */
export interface RpcStatus { code: number; message: string; retryDelayMs?: number }

const RETRY_INFO = 'google.rpc.RetryInfo';

class Reader {
  pos = 0;
  constructor(private readonly b: Uint8Array, private readonly end = b.length) {}
  done(): boolean { return this.pos >= this.end; }
  varint(): number {
    let v = 0, mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.b[this.pos++]!;
      v += (byte & 0x7f) * mul;
      if (byte < 0x80) return v;
      mul *= 128;
    }
    throw new Error('varint too long');
  }
  bytes(): Uint8Array {
    const n = this.varint();
    if (this.pos + n > this.end) throw new Error('truncated length-delimited field');
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new Error('truncated field');
  }
  /** Calls `on(field, wire)` per field; `on` returns false to have the field skipped. */
  fields(on: (field: number, wire: number) => boolean): void {
    while (!this.done()) {
      const tag = this.varint();
      const field = Math.floor(tag / 8), wire = tag & 7;
      if (field === 0) throw new Error('field number 0');
      if (!on(field, wire)) this.skip(wire);
    }
  }
}

const text = new TextDecoder();
/** int32 read from a varint: negative values arrive as 64-bit two's complement. */
const int32 = (v: number) => (v >= 2 ** 31 ? Number(BigInt.asIntN(32, BigInt(v))) : v);

function readRetryDelayMs(retryInfo: Uint8Array): number {
  let ms = 0;
  const r = new Reader(retryInfo);
  r.fields((f, w) => {
    if (f !== 1 || w !== 2) return false;
    let seconds = 0, nanos = 0;
    const d = new Reader(r.bytes());
    d.fields((df, dw) => {
      if (dw !== 0) return false;
      if (df === 1) seconds = Number(BigInt.asIntN(64, BigInt(d.varint())));
      else if (df === 2) nanos = int32(d.varint());
      else return false;
      return true;
    });
    ms = seconds * 1000 + Math.round(nanos / 1e6);
    return true;
  });
  return ms;
}

function readAny(any: Uint8Array): { typeUrl: string; value: Uint8Array } {
  let typeUrl = '', value: Uint8Array = new Uint8Array(0);
  const r = new Reader(any);
  r.fields((f, w) => {
    if (w !== 2 || (f !== 1 && f !== 2)) return false;
    if (f === 1) typeUrl = text.decode(r.bytes());
    else value = r.bytes();
    return true;
  });
  return { typeUrl, value };
}

/** Decodes a google.rpc.Status; malformed bytes come back as an error, never thrown. */
export function decodeRpcStatus(bytes: Uint8Array): DecodeResult<RpcStatus> {
  try {
    const out: RpcStatus = { code: 0, message: '' };
    const r = new Reader(bytes);
    r.fields((f, w) => {
      if (f === 1 && w === 0) out.code = int32(r.varint());
      else if (f === 2 && w === 2) out.message = text.decode(r.bytes());
      else if (f === 3 && w === 2) {
        const d = readAny(r.bytes());
        // A RetryInfo without retry_delay still means "retry" (RESOURCE_EXHAUSTED is retried only with
        // one): 0 = no delay asked for, so the exporter's own backoff applies.
        if (d.typeUrl.endsWith(RETRY_INFO)) out.retryDelayMs = readRetryDelayMs(d.value);
      } else return false;
      return true;
    });
    return { ok: true, value: out };
  } catch (e) {
    return { ok: false, error: `malformed google.rpc.Status: ${(e as Error).message}` };
  }
}
