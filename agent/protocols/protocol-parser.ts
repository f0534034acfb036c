// The seam between the engine (connection table, dispatch, bounds, timeouts) and one protocol's
// parser. A parser owns one connection: it gets that connection's events in kernel order and
// reports finished transactions and counted problems through its sink. It must never throw.
import type { CloseEvent, DataEvent, GapEvent } from '../capture/capture-events.js';
import type { Transaction } from './transaction.js';

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
}
