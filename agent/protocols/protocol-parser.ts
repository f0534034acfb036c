// The seam between the engine (connection table, dispatch, bounds, timeouts) and one protocol's
// parser. A parser owns one connection: it gets that connection's events in kernel order and
// reports finished transactions and counted problems through its sink. It must never throw.
import type { CloseEvent, DataEvent, Direction, GapEvent, Role } from '../capture/capture-events.js';
import type { HttpRequestInfo, Transaction } from './transaction.js';

export interface ParserSink {
  emit(tx: Transaction): void;
  /** Count a named problem (parse error, resync, degraded header block, ...) in self-telemetry. */
  count(counter: string, n?: number): void;
}

export interface ConnectionParser {
  onData(ev: DataEvent): void;
  onGap(ev: GapEvent): void;
  /** Connection closed: finish what can be finished, end pending requests as 'connection_closed'. */
  onClose(ev: CloseEvent): void;
  /** Periodic clock (ns since boot): end requests waiting longer than the bounded wait as 'timeout'. */
  onTick(nowNs: number): void;
  /** Bytes currently buffered (for the engine's memory bound). */
  bufferedBytes(): number;
  /**
   * The kernel named the connection's role after this parser was built with 'unknown' (it told only
   * once it saw a request or response start). Optional: a parser without it keeps what it inferred.
   */
  onRole?(role: 'client' | 'server'): void;
}

/**
 * A parser's request to hand its connection over (HTTP/1.1 `101 Switching Protocols` to h2c,
 * websocket/CONNECT tunnels). The engine swaps the parser after the current event returns and
 * feeds `carry` to the new one, in order. `to: 'opaque'` means: stop parsing this connection.
 */
export interface ProtocolSwitch {
  to: 'http2' | 'opaque';
  /** Stream bytes after the switch point that the old parser already holds, in stream order (copies). */
  carry: { direction: Direction; bytes: Uint8Array; totalBytes: number; offset: number; tsNs: number }[];
  /** h2c: the HTTP/1.1 request that asked for the upgrade; it becomes HTTP/2 stream 1 (RFC 7540 §3.2). */
  upgradeRequest?: { request: HttpRequestInfo; startNs: number; requestBytes: number };
  /** The connection's role as the old parser inferred it (when the kernel said 'unknown'). */
  inferredRole?: Role;
}

/** Optional extension of ParserSink implemented by the engine (the h2c / tunnel hand-over). */
export interface SwitchingParserSink extends ParserSink {
  switchProtocol(sw: ProtocolSwitch): void;
}
