// The agent's side of the NAT channel: for a CLIENT connection whose destination was DNATed, the
// post-NAT destination goes on the span as sockeye.nat.peer.address/.port; server.address and
// network.peer.address keep the dialed VIP. The collector's `nat` processor turns it into the
// backend pod's identity. Connections without NAT (Cilium socket-LB, direct pod IPs) get nothing.
import type { SocketTuple } from '../capture/capture-events.js';
import type { NatTarget, TupleQuery } from './nat-table.js';
import { NAT_PEER_ADDRESS, NAT_PEER_PORT } from '../../common/semconv/sockeye-attributes.js';

/** The NAT target; null: conntrack reported the connection untranslated; undefined: not known (yet). */
export interface NatLookup { lookup(q: TupleQuery): NatTarget | null | undefined }

/** translated: NAT keys added; untranslated: conntrack said no NAT; unknown: no conntrack news of it (yet). */
export type NatOutcome = 'translated' | 'untranslated' | 'unknown';

/** Adds the NAT keys to `attrs` when the connection was translated. */
export function addNatPeer(watcher: NatLookup | undefined, t: SocketTuple, attrs: Record<string, unknown>): NatOutcome {
  if (!watcher || (t.transport !== 'tcp' && t.transport !== 'udp')) return 'untranslated';
  const hit = watcher.lookup({ localAddress: t.localAddr, localPort: t.localPort, remoteAddress: t.remoteAddr, remotePort: t.remotePort, protocol: t.transport });
  if (hit === undefined) return 'unknown';
  if (hit === null) return 'untranslated';
  attrs[NAT_PEER_ADDRESS] = hit.address;
  attrs[NAT_PEER_PORT] = hit.port;
  return 'translated';
}
