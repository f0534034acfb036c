// Reading and making the 64-bit integers of decoded OTLP (timestamps, counts). protobufjs decodes
// them as Long-like {low, high}; these helpers keep every component from re-implementing that.
import type { Int64, LongLike } from './types.js';

const TWO32 = 4294967296;

/** Exact value as a bigint (timestamps in ns exceed 2^53). */
export function int64ToBigInt(v: Int64 | null | undefined): bigint {
  if (v == null) return 0n;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  const lo = BigInt(v.low >>> 0);
  const hi = v.unsigned === false ? BigInt(v.high | 0) : BigInt(v.high >>> 0);
  return (hi << 32n) | lo;
}

/** Value as a JS number (exact below 2^53; fine for counts and durations). */
export function int64ToNumber(v: Int64 | null | undefined): number {
  if (v == null) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return Number(v);
  const hi = v.unsigned === false ? v.high | 0 : v.high >>> 0;
  return hi * TWO32 + (v.low >>> 0);
}

/** end - start in nanoseconds as a number, computed exactly on the 64-bit bits (no bigint). */
export function nanosBetween(start: Int64 | null | undefined, end: Int64 | null | undefined): number {
  if (start != null && end != null && typeof start === 'object' && typeof end === 'object') {
    return ((end.high >>> 0) - (start.high >>> 0)) * TWO32 + ((end.low >>> 0) - (start.low >>> 0));
  }
  return Number(int64ToBigInt(end) - int64ToBigInt(start));
}

/** An unsigned 64-bit value as Long-like bits for encoding. */
export function int64FromBigInt(v: bigint): LongLike {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0, unsigned: true };
}

/** Wall-clock now in Unix nanoseconds, as Long-like bits. */
export function nowUnixNano(): LongLike {
  return int64FromBigInt(BigInt(Date.now()) * 1_000_000n);
}

/** A 64-bit value as its decimal string (OTLP/JSON's encoding of 64-bit integers). */
export function int64ToString(v: Int64 | null | undefined): string {
  return int64ToBigInt(v).toString();
}

export function bytesToHex(b: Uint8Array | null | undefined): string {
  return b && b.length ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') : '';
}

/** Parses a hex id; throws with the reason when it is not hex of the expected byte length. */
export function hexToBytes(hex: string, expectedBytes?: number): Uint8Array {
  if (hex === '') return new Uint8Array(0);
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length % 2 !== 0) throw new Error(`not a hex string: "${hex.slice(0, 40)}"`);
  if (expectedBytes !== undefined && hex.length !== expectedBytes * 2) {
    throw new Error(`expected ${expectedBytes * 2} hex digits, got ${hex.length}`);
  }
  return new Uint8Array(Buffer.from(hex, 'hex'));
}
