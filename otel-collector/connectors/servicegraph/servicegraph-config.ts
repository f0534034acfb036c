// Config of connector `servicegraph`.
import { object, list, num, int, str, duration, type Infer } from '../../../common/config/config-schema.js';
import { DURATION_BUCKETS_S } from '../../../common/semconv/semconv.js';

export const servicegraphConfig = object({
  // Default: the buckets of sockeye's semconv request-duration histograms (seconds).
  latency_histogram_buckets: list(num(undefined, { min: 0, exclusiveMin: true }), DURATION_BUCKETS_S, { nonEmpty: true }),
  /** Extra span/resource attributes copied to labels client_<key> and server_<key>. */
  dimensions: list(str(undefined, { nonEmpty: true }), []),
  store: object({
    ttl: duration(2000, { min: 1 }),
    max_items: int(10_000, { min: 1 }),
  }),
  /** When a client span never meets its server span, name the server from these attributes: the
   *  current semconv names first, then the deprecated ones other instrumentation may still send. */
  virtual_node_peer_attributes: list(str(undefined, { nonEmpty: true }),
    ['server.service.name', 'peer.service', 'db.namespace', 'db.name', 'db.system.name', 'db.system']),
  metrics_flush_interval: duration(15_000, { min: 10 }),
  /** Bound on distinct label sets; edges beyond it are counted as dropped, not emitted. */
  max_series: int(10_000, { min: 1 }),
}, (c, fail) => {
  const b = c.latency_histogram_buckets;
  for (let i = 1; i < b.length; i++) {
    if (b[i]! <= b[i - 1]!) fail('latency_histogram_buckets', `must be strictly increasing, but ${b[i]} follows ${b[i - 1]}`);
  }
});
export type ServicegraphConfig = Infer<typeof servicegraphConfig>;
