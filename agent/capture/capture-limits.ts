// The limits of the kernel capture's options, stated once, and the one check of them. Every entry
// point checks through limitProblem: KernelCapture.open (tests, bench, `sockeye trace`), the
// agent's config schema (so a bad capture.* value is a config error naming its key, exit 2, not a
// failed start) and the trace command's flags (so the error names the flag).
import { DEFAULT_PAYLOAD_CAP, MAX_PAYLOAD_CAP } from './event-names.js';

export { DEFAULT_PAYLOAD_CAP, MAX_PAYLOAD_CAP };

/** An integer range; `powerOfTwo` when only powers of two inside it are allowed. */
export interface IntLimit { readonly min: number; readonly max: number; readonly powerOfTwo?: boolean }

/** Payload bytes copied per syscall (the kernel's own bound, from bpf/). */
export const PAYLOAD_CAP: IntLimit = { min: 1, max: MAX_PAYLOAD_CAP };

/** Ring-buffer size: a power of two between a page and 1 GiB. */
export const RING_BYTES: IntLimit = { min: 4096, max: 1 << 30, powerOfTwo: true };
export const DEFAULT_RING_BYTES = 8 << 20;

/** How often the ring is drained even when no wake-up came. */
export const FLUSH_INTERVAL_MS: IntLimit = { min: 0, max: 60_000 };

/** Process ids (PID_MAX_LIMIT is 2^22 on 64-bit; the filter map key allows up to 2^30 - 1). */
export const PID: IntLimit = { min: 1, max: 0x3fffffff };

/** Wake-up threshold: at most the ring's size. */
export const wakeupBytesLimit = (ringBytes: number): IntLimit => ({ min: 0, max: ringBytes });

export const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/** Why `v` is not allowed by `limit`, or undefined when it is. */
export function limitProblem(limit: IntLimit, v: unknown): string | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < limit.min || v > limit.max) {
    return `expected an integer ${limit.min}..${limit.max}, got ${String(v)}`;
  }
  if (limit.powerOfTwo && !isPowerOfTwo(v)) return `must be a power of two, got ${v}`;
  return undefined;
}
