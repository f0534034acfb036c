// The limits of the kernel capture's options, stated once: KernelCapture.open checks them for every
// caller, and the agent's config checks its capture.* keys against the same numbers so a bad value
// is a config error (exit 2) naming the key, not a failed start.
export { DEFAULT_PAYLOAD_CAP, MAX_PAYLOAD_CAP } from './event-names.js';

/** Ring-buffer size: a power of two between a page and 1 GiB. */
export const MIN_RING_BYTES = 4096;
export const MAX_RING_BYTES = 1 << 30;
export const DEFAULT_RING_BYTES = 8 << 20;

export const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;
