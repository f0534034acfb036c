// Small helpers for parsing text protocols straight from bytes (no whole-buffer string conversion).
import { Buffer } from 'node:buffer';

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** Bytes [start, end) as a latin1 string (the native slice beats a JS loop at every length measured). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  return end > start ? latin1Slice.call(bytes, start, end) : '';
}

/** Case-insensitive compare of bytes [start, start+lower.length) with an all-lower-case ASCII name. */
export function equalsLower(bytes: Uint8Array, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((bytes[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Does [start, end) contain `lower` as a case-insensitive substring? (for short header values) */
export function containsLower(bytes: Uint8Array, start: number, end: number, lower: string): boolean {
  const n = lower.length;
  const first = lower.charCodeAt(0);
  for (let i = start; i + n <= end; i++) {
    if ((bytes[i]! | 0x20) === first && equalsLower(bytes, i, lower)) return true;
  }
  return false;
}

/** Unsigned decimal in [start, end), or -1 when empty, not all digits, or beyond 2^53. */
export function parseDecimal(bytes: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = bytes[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Value of one hex digit byte, or -1. */
export function hexDigit(b: number): number {
  if (b >= 48 && b <= 57) return b - 48;
  const l = b | 0x20;
  if (l >= 97 && l <= 102) return l - 87;
  return -1;
}

/** Grows `buf` (keeping its first `used` bytes) so that it can hold `need` bytes. */
export function ensureCapacity(buf: Uint8Array, used: number, need: number): Uint8Array {
  if (need <= buf.length) return buf;
  const next = new Uint8Array(Math.max(need, buf.length * 2, 256));
  next.set(buf.subarray(0, used));
  return next;
}

const u8IndexOf = Uint8Array.prototype.indexOf;

/**
 * Index of byte `b` in bytes[from..], or -1. Always the typed-array builtin: capture batches may hand
 * us Buffers, whose own indexOf is a much slower JS wrapper around a native call.
 */
export function indexOfByte(bytes: Uint8Array, b: number, from: number): number {
  return u8IndexOf.call(bytes, b, from);
}
