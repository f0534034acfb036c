// Attribute names of sockeye's own (not in the semantic conventions), written by the agent and read
// by the collector, so both halves agree on them.

/** Post-NAT destination of a DNATed CLIENT connection (Service VIP → backend), set by the agent and
 *  resolved to the backend pod by the collector's `nat` processor (docs/nat.md). */
export const NAT_PEER_ADDRESS = 'sockeye.nat.peer.address';
export const NAT_PEER_PORT = 'sockeye.nat.peer.port';

/** TCP resets (network health): which side sent it, the kernel's reason, the TCP state. Labels of
 *  sockeye.tcp.resets and attributes of the span event on a transaction a reset broke. */
export const TCP_RESET_DIRECTION = 'sockeye.tcp.reset.direction';
export const TCP_RESET_REASON = 'sockeye.tcp.reset.reason';
export const TCP_STATE = 'sockeye.tcp.state';
/** Span event name on a transaction whose connection was reset (docs/network-health.md). */
export const TCP_RESET_EVENT = 'sockeye.tcp.reset';
