// A transaction whose connection was reset: error.type = connection_reset and a span event that
// says which side sent the reset, the TCP state and the kernel's reason. The resets come from
// network health (agent/network-health/connection-resets.ts) through a small lookup by
// connection; this file only decides which spans get one.
import type { SocketTuple } from '../capture/capture-events.js';
import type { Transaction } from '../protocols/transaction.js';
import { TCP_RESET_DIRECTION, TCP_RESET_EVENT, TCP_RESET_REASON, TCP_STATE } from '../../common/semconv/sockeye-attributes.js';
import type { BootClock } from './boot-clock.js';
import type { BuiltSignals } from './span-builder.js';

export const CONNECTION_RESET = 'connection_reset';

export interface ConnectionReset {
  direction: 'sent' | 'received';
  /** TCP state name when the reset was sent or received (e.g. established). */
  state?: string;
  /** The kernel's reason (sent resets only), e.g. tcp_abort_on_close. */
  reason?: string;
  /** CLOCK_BOOTTIME ns. */
  tsNs: number;
}

export interface ConnectionResetLookup {
  /** The reset seen on this connection (netns + tuple) between fromNs and toNs, if any. */
  find(netns: number, tuple: SocketTuple, fromNs: number, toNs: number): ConnectionReset | undefined;
}

/** A reset up to this long after the transaction's end still counts: a SO_LINGER 0 close() is
 *  timestamped at its entry, the reset it sends a few microseconds later. */
const AFTER_END_NS = 100e6;

/** Ended before its response did, in a way the connection may explain: closed (also mid-body,
 *  after the status), timed out, or with no response at all. */
function broken(tx: Transaction, built: BuiltSignals): boolean {
  if (tx.tuple.transport !== 'tcp' || built.lost) return false;
  return tx.error === 'connection_closed' || tx.error === 'timeout' || built.span.attributes['error.type'] === 'incomplete';
}

/** Marks a broken TCP transaction whose connection saw a reset; returns whether it did. */
export function markConnectionReset(tx: Transaction, built: BuiltSignals, resets: ConnectionResetLookup, clock: BootClock): boolean {
  if (!broken(tx, built)) return false;
  const r = resets.find(tx.process.netns, tx.tuple, tx.startNs, tx.endNs + AFTER_END_NS);
  if (!r) return false;
  built.span.setError(CONNECTION_RESET);
  built.isError = true;
  built.metric.attributes['error.type'] = CONNECTION_RESET;
  const attributes: Record<string, string> = { [TCP_RESET_DIRECTION]: r.direction };
  if (r.state) attributes[TCP_STATE] = r.state;
  if (r.reason) attributes[TCP_RESET_REASON] = r.reason;
  built.span.addEvent(TCP_RESET_EVENT, clock.toHrTime(r.tsNs), attributes);
  return true;
}
