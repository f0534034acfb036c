// TcpEvents → the network-health instruments. Decides the labels: the connecting side gets the
// server's address and port, the accepting side the client's address only (never its ephemeral
// port) and its own listening port; peers are bounded per service (beyond the cap: `_OTHER`,
// counted). Events whose socket owner is unknown are counted and kept under one service name.
import type { Attributes } from '@opentelemetry/api';
import type { ProcessIdentity } from '../signals/process-resource.js';
import type { ProcessInfo } from '../capture/capture-events.js';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import type { TcpEvent } from './tcp-event-decoder.js';
import { TCP_STATE_NAMES } from './tcp-event-layout.js';
import { TCP_METRIC, type TcpMetrics } from './tcp-metrics.js';
import type { ResetReasons } from './reset-reasons.js';

/** Service name of events whose socket has no known owner (sockets older than the agent, resets for no socket). */
export const UNATTRIBUTED_SERVICE = 'sockeye.unattributed';
export const OTHER_PEER = '_OTHER';

/** Socket errno of a failed connect → error.type. */
const CONNECT_ERRORS: Record<number, string> = {
  111: 'connection_refused', // ECONNREFUSED: RST to our SYN
  110: 'timeout', // ETIMEDOUT: SYN retries ran out
  104: 'connection_reset', // ECONNRESET
  113: 'host_unreachable', // EHOSTUNREACH (ICMP)
  101: 'host_unreachable', // ENETUNREACH
};

export function connectErrorType(errno: number): string {
  // 0: the application closed the socket before the handshake finished (its own connect timeout).
  if (errno === 0) return 'connection_aborted';
  return CONNECT_ERRORS[errno] ?? '_OTHER';
}

export interface IdentityLookup { get(proc: ProcessInfo, atNs?: number): ProcessIdentity }

export class TcpEventMetrics {
  private readonly peers = new Map<string, Set<string>>();
  private readonly unattributed = new Map<string, { value: number }>();

  constructor(private readonly metrics: TcpMetrics, private readonly identities: IdentityLookup,
    private readonly reasons: ResetReasons, private readonly telemetry: TelemetryRegistry, private readonly maxPeers = 100) {}

  onEvent(e: TcpEvent): void {
    let service = UNATTRIBUTED_SERVICE;
    let podUid: string | undefined;
    if (e.owner) {
      const id = this.identities.get({ pid: e.owner.pid, tid: e.owner.pid, comm: e.owner.comm, cgroupId: 0n, netns: e.netns }, e.tsNs);
      service = id.serviceName;
      podUid = id.podUid;
    } else {
      let c = this.unattributed.get(e.kind);
      if (!c) this.unattributed.set(e.kind, (c = this.telemetry.counter('sockeye_tcp_events_unattributed_total',
        `TCP events whose socket owner was not known (socket opened before the agent, listener unknown, reset for no socket), kept under service ${UNATTRIBUTED_SERVICE}, by kind.`, { kind: e.kind })));
      c.value++;
    }
    const rec = (name: Parameters<TcpMetrics['record']>[2], attrs: Attributes, v?: number) => this.metrics.record(service, podUid, name, attrs, v);
    const peer = this.peerAttributes(service, e);
    const role = { 'sockeye.tcp.role': e.role, ...peer };
    switch (e.kind) {
      case 'connect':
        if (e.durationS !== undefined) rec(TCP_METRIC.connectDuration, e.established ? peer : { ...peer, 'error.type': connectErrorType(e.errno) }, e.durationS);
        if (e.established) rec(TCP_METRIC.connections, { ...role, 'sockeye.tcp.connection.event': 'opened' });
        break;
      case 'accept':
        rec(TCP_METRIC.connections, { ...role, 'sockeye.tcp.connection.event': 'opened' });
        break;
      case 'close':
        rec(TCP_METRIC.connections, { ...role, 'sockeye.tcp.connection.event': 'closed' });
        if (e.durationS !== undefined) rec(TCP_METRIC.connectionDuration, role, e.durationS);
        if (e.srttS) rec(TCP_METRIC.rtt, role, e.srttS);
        break;
      case 'retransmit':
        rec(TCP_METRIC.retransmits, { ...role, 'sockeye.tcp.retransmit.kind': e.retransmit ?? 'data' });
        break;
      case 'reset_sent':
      case 'reset_received': {
        const a: Attributes = { ...role, 'sockeye.tcp.reset.direction': e.kind === 'reset_sent' ? 'sent' : 'received' };
        if (e.resetReason !== undefined) a['sockeye.tcp.reset.reason'] = this.reasons.name(e.resetReason);
        if (e.state) a['sockeye.tcp.state'] = TCP_STATE_NAMES[e.state] ?? String(e.state);
        rec(TCP_METRIC.resets, a);
        break;
      }
      case 'listen_overflow':
        rec(TCP_METRIC.listenOverflows, { 'server.port': e.localPort });
        break;
    }
  }

  /** Peer labels by role, bounded per service. */
  private peerAttributes(service: string, e: TcpEvent): Attributes {
    if (e.kind === 'listen_overflow') return {};
    const client = e.role === 'client';
    const key = client ? `${e.remoteAddr}:${e.remotePort}` : `${e.remoteAddr}|${e.localPort}`;
    let seen = this.peers.get(service);
    if (!seen) this.peers.set(service, (seen = new Set()));
    if (!seen.has(key)) {
      if (seen.size >= this.maxPeers) {
        this.telemetry.add('sockeye_tcp_peer_overflow_total', 'TCP events whose peer was folded into the _OTHER peer because the service hit network_health.max_peers_per_service.');
        return client ? { 'server.address': OTHER_PEER } : { 'client.address': OTHER_PEER };
      }
      seen.add(key);
    }
    if (client) return { 'server.address': e.remoteAddr, 'server.port': e.remotePort };
    if (e.role === 'server') return { 'client.address': e.remoteAddr, 'server.port': e.localPort };
    return { 'network.peer.address': e.remoteAddr };
  }
}
