// Attribute names of sockeye's own (not in the semantic conventions), written by the agent and read
// by the collector, so both halves agree on them.

/** Post-NAT destination of a DNATed CLIENT connection (Service VIP → backend), set by the agent and
 *  resolved to the backend pod by the collector's `nat` processor (docs/nat.md). */
export const NAT_PEER_ADDRESS = 'sockeye.nat.peer.address';
export const NAT_PEER_PORT = 'sockeye.nat.peer.port';
