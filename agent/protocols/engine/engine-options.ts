// Bounds and timeouts of the protocol engine and its parsers: typed, defaulted, validated.
// Every structure the engine or a parser keeps is bounded by one of these.

export interface EngineOptions {
  /** Connections tracked at once; the least recently active one is evicted beyond this. */
  maxConnections: number;
  /** A connection with no event for this long is evicted (its pending requests end). */
  idleTimeoutNs: number;
  /** A request without a response after this long ends as a 'timeout' transaction. */
  requestTimeoutNs: number;
  /** Bytes a parser may buffer per connection (partial header sections, frames). */
  maxBufferedBytesPerConnection: number;
  /** Requests waiting for a response per connection (HTTP/1.1 pipelining, HTTP/2 streams, DNS ids). */
  maxPendingRequests: number;
  /** Largest header section / header block kept for parsing. */
  maxHeaderBytes: number;
  /** Most header fields parsed per message; the rest are skipped and counted. */
  maxHeaderCount: number;
  /** Upper bound on an HPACK dynamic table, whatever SETTINGS asks for. */
  maxHpackTableSize: number;
}

export const defaultEngineOptions: Readonly<EngineOptions> = Object.freeze({
  maxConnections: 65_536,
  idleTimeoutNs: 300e9,
  requestTimeoutNs: 30e9,
  maxBufferedBytesPerConnection: 256 * 1024,
  maxPendingRequests: 256,
  maxHeaderBytes: 64 * 1024,
  maxHeaderCount: 256,
  maxHpackTableSize: 64 * 1024,
});

/** Thrown by resolveEngineOptions; the message names the bad key and why. */
export class EngineOptionsError extends Error {
  constructor(readonly key: string, reason: string) {
    super(`protocol engine option '${key}': ${reason}`);
    this.name = 'EngineOptionsError';
  }
}

/** Fills defaults and validates: every option is a positive finite number; unknown keys are errors. */
export function resolveEngineOptions(partial: Partial<EngineOptions> | undefined): EngineOptions {
  const out: EngineOptions = { ...defaultEngineOptions };
  if (partial === undefined) return out;
  if (partial === null || typeof partial !== 'object') throw new EngineOptionsError('(options)', 'must be an object');
  for (const [key, value] of Object.entries(partial)) {
    if (!(key in defaultEngineOptions)) throw new EngineOptionsError(key, `unknown option (known: ${Object.keys(defaultEngineOptions).join(', ')})`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new EngineOptionsError(key, `must be a positive finite number, got ${JSON.stringify(value)}`);
    }
    (out as unknown as Record<string, number>)[key] = value;
  }
  if (out.maxHeaderBytes > out.maxBufferedBytesPerConnection) {
    throw new EngineOptionsError('maxHeaderBytes', `must not exceed maxBufferedBytesPerConnection (${out.maxBufferedBytesPerConnection})`);
  }
  return out;
}
