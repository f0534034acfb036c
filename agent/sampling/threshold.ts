// Rejection thresholds of OpenTelemetry consistent probability sampling (spec: trace/
// tracestate-probability-sampling.md). A threshold T is a 56-bit number: of the 2^56 possible
// randomness values R of a trace, those below T are rejected, so probability = (2^56 - T) / 2^56 and
// a kept span stands for 1/probability spans (its adjusted count). The `th` form is T in hex with
// trailing zeros dropped ("0" keeps everything, "8" keeps half, "c" a quarter).
// On the hot path T and R are compared as 14-digit lower-case hex strings: for strings of equal
// length that order is the numeric order, so a decision costs one slice and one compare.

export type Threshold = bigint;

/** 2^56: the number of distinct randomness values, and the largest adjusted count. */
export const MAX_ADJUSTED_COUNT = 1n << 56n;
const HEX_DIGITS = 14;

/** The threshold that rejects nothing (probability 1). */
export const ALWAYS_SAMPLE: Threshold = 0n;

/** Smallest probability a threshold can express. */
export const MIN_PROBABILITY = 2 ** -56;

/**
 * The threshold for a probability, rounded to `precision` significant hex digits (the spec
 * recommends 4). Digits are counted after the leading f's, so small probabilities keep their
 * precision: 0.01 → fd70a, 0.001 → ffbe77. Throws RangeError outside [2^-56, 1].
 */
export function probabilityToThreshold(probability: number, precision = 4): Threshold {
  if (!(probability >= MIN_PROBABILITY && probability <= 1)) throw new RangeError(`probability must be in [2^-56, 1], got ${probability}`);
  if (probability === 1) return ALWAYS_SAMPLE;
  // Base-2 exponent e with probability = m·2^e, m in [0.5, 1); each 4 of it is one leading f.
  let e = 0;
  for (let m = probability; m < 0.5; m *= 2) e--;
  const digits = Math.max(1, Math.min(12, precision + Math.floor(-e / 4)));
  // 2 - p lies in [1, 2): its fraction is the rejection probability, exactly as a double.
  // Adding half of the last kept digit rounds to nearest when the rest is cut off.
  const r = 2 - probability + 2 ** (-4 * digits - 1);
  const scaled = r >= 2 ? 16 ** digits - 1 : Math.floor((r - 1) * 16 ** digits); // < 2^48: exact
  const hex = scaled.toString(16).padStart(digits, '0');
  return BigInt(`0x${hex.padEnd(HEX_DIGITS, '0')}`);
}

/** Probability of keeping a span under threshold `t`. */
export function thresholdToProbability(t: Threshold): number {
  return Number(MAX_ADJUSTED_COUNT - t) / Number(MAX_ADJUSTED_COUNT);
}

/** How many spans one kept span stands for under threshold `t` (1/probability). */
export function adjustedCount(t: Threshold): number {
  return Number(MAX_ADJUSTED_COUNT) / Number(MAX_ADJUSTED_COUNT - t);
}

/** The `th` value: hex without trailing zeros; "0" for always. */
export function formatTh(t: Threshold): string {
  if (t === 0n) return '0';
  return thresholdKey(t).replace(/0+$/, '');
}

/** A `th` value (1 to 14 hex digits) as a threshold, or undefined when malformed. */
export function parseTh(value: string): Threshold | undefined {
  if (!/^[0-9a-fA-F]{1,14}$/.test(value)) return undefined;
  return BigInt(`0x${value.padEnd(HEX_DIGITS, '0')}`);
}

/** The threshold as 14 lower-case hex digits: the form compared with randomness. */
export function thresholdKey(t: Threshold): string {
  return t.toString(16).padStart(HEX_DIGITS, '0');
}

/** The trace's randomness: its trace id's last 7 bytes (W3C Trace Context Level 2), 14 hex digits. */
export function traceIdRandomness(traceId: string): string {
  return traceId.slice(-HEX_DIGITS).toLowerCase();
}

/** Whether randomness `r` (14 hex digits) is kept by a threshold key (14 hex digits): R >= T. */
export function keeps(r: string, key: string): boolean {
  return r >= key;
}

/** An explicit randomness value `rv` (exactly 14 hex digits), lower-cased, or undefined. */
export function parseRv(value: string): string | undefined {
  return /^[0-9a-fA-F]{14}$/.test(value) ? value.toLowerCase() : undefined;
}

/** The threshold keeping a power-of-two share 2^-level (level 0 keeps all): 2^56 - 2^(56-level). */
export function powerOfTwoThreshold(level: number): Threshold {
  if (!Number.isInteger(level) || level < 0 || level > 56) throw new RangeError(`level must be an integer 0-56, got ${level}`);
  return MAX_ADJUSTED_COUNT - (1n << BigInt(56 - level));
}
