// connector `servicegraph` (traces → metrics): pairs each client span with the server span whose
// parent it is (same trace) and counts requests per client→server edge with Tempo/Grafana's metric
// names and labels (client, server, connection_type). Producer/consumer pairs are edges too
// (connection_type messaging_system). Halves that never meet expire after store.ttl: a client half
// with a peer attribute becomes an edge to a virtual node, the rest are counted as unpaired.
import type { ConnectorFactory } from '../../component/factory.js';
import { consumeFn } from '../../component/consumer.js';
import type { Traces, KeyValue, Span } from '../../pdata/types.js';
import { SpanKind, StatusCode } from '../../pdata/types.js';
import { nanosBetween } from '../../pdata/int64.js';
import { servicegraphConfig, type ServicegraphConfig } from './servicegraph-config.js';
import { EdgeStore, type HalfEdge } from './edge-store.js';
import { SeriesStore } from './series-store.js';

function strAttr(attrs: KeyValue[] | undefined, key: string): string | undefined {
  if (!attrs) return undefined;
  for (const kv of attrs) {
    if (kv.key === key) {
      const v = kv.value;
      if (!v) return undefined;
      if (v.stringValue != null) return v.stringValue;
      if (v.intValue != null) return String(v.intValue);
      if (v.boolValue != null) return String(v.boolValue);
      if (v.doubleValue != null) return String(v.doubleValue);
      return undefined;
    }
  }
  return undefined;
}

// A binary-string key of trace id + span id: cheaper than hex and exact.
function pairKey(traceId: Uint8Array, spanId: Uint8Array): string {
  return Buffer.from(traceId.buffer, traceId.byteOffset, traceId.byteLength).toString('latin1')
    + Buffer.from(spanId.buffer, spanId.byteOffset, spanId.byteLength).toString('latin1');
}

const promLabel = (k: string) => k.replace(/[^a-zA-Z0-9_]/g, '_');

export const servicegraphConnectorFactory: ConnectorFactory<ServicegraphConfig> = {
  type: 'servicegraph',
  kind: 'connector',
  pairs: [['traces', 'metrics']],
  config: servicegraphConfig,
  create(s, cfg, _from, _to, next) {
    const emit = consumeFn(next, 'metrics')!;
    const id = s.id.toString();
    const tel = s.telemetry;
    const unpaired = tel.counter('connector_servicegraph_unpaired_spans', 'Client or server spans that expired without their other half.');
    const dropped = tel.counter('connector_servicegraph_dropped_spans', 'Spans not tracked because the edge store or the series limit was full.');
    const edges = tel.counter('connector_servicegraph_edges', 'Completed client→server edges.');
    const store = new EdgeStore(cfg.store.ttl, cfg.store.max_items);
    const series = new SeriesStore(cfg.latency_histogram_buckets, cfg.max_series);
    const labelNames = ['client', 'server', 'connection_type',
      ...cfg.dimensions.map((d) => `client_${promLabel(d)}`), ...cfg.dimensions.map((d) => `server_${promLabel(d)}`)];
    const noDims: string[] = cfg.dimensions.map(() => '');
    tel.gauge('connector_servicegraph_store_items', 'Half-edges waiting for their other half.', () => store.size, { connector: id });

    const dims = (span: Span, resAttrs: KeyValue[] | undefined) =>
      cfg.dimensions.length ? cfg.dimensions.map((d) => strAttr(span.attributes, d) ?? strAttr(resAttrs, d) ?? '') : noDims;

    const complete = (e: HalfEdge, connectionType: string) => {
      const labels = [e.clientService ?? 'unknown', e.serverService ?? 'unknown', connectionType,
        ...(e.clientDims ?? noDims), ...(e.serverDims ?? noDims)];
      if (series.record(labels, labelNames, e.failed, e.clientSeconds, e.serverSeconds)) edges.add(1, { connector: id });
      else dropped.add(1, { connector: id, reason: 'max_series' });
    };

    const expire = (now: number) => {
      for (const e of store.expire(now)) {
        if (e.clientService !== undefined && e.peer !== undefined) {
          complete({ ...e, serverService: e.peer }, 'virtual_node');
        } else {
          unpaired.add(1, { connector: id, side: e.clientService !== undefined ? 'client' : 'server' });
        }
      }
    };

    let flushTimer: NodeJS.Timeout | undefined;
    let expireTimer: NodeJS.Timeout | undefined;
    const flush = async () => {
      const m = series.toMetrics();
      if (m.resourceMetrics.length === 0) return;
      try {
        await emit(m);
      } catch (e) {
        // Cumulative series: the next flush carries the same totals, so nothing is lost for good.
        s.logger.warn(`metrics pipeline refused service-graph metrics: ${(e as Error).message}`);
      }
    };

    return {
      async consumeTraces(t: Traces) {
        const now = Date.now();
        for (const rs of t.resourceSpans) {
          const resAttrs = rs.resource?.attributes;
          const service = strAttr(resAttrs, 'service.name') ?? 'unknown';
          for (const ss of rs.scopeSpans) {
            for (const span of ss.spans) {
              const kind = span.kind;
              const isClient = kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER;
              const isServer = kind === SpanKind.SERVER || kind === SpanKind.CONSUMER;
              if (!isClient && !isServer) continue;
              const seconds = nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano) / 1e9;
              const failed = span.status?.code === StatusCode.ERROR;
              const messaging = kind === SpanKind.PRODUCER || kind === SpanKind.CONSUMER;
              if (isClient) {
                const key = pairKey(span.traceId, span.spanId);
                const other = store.take(key);
                if (other) {
                  complete({ ...other, clientService: service, clientDims: dims(span, resAttrs), clientSeconds: seconds, failed: other.failed || failed }, other.messaging || messaging ? 'messaging_system' : '');
                  continue;
                }
                let peer: string | undefined;
                for (const a of cfg.virtual_node_peer_attributes) { peer = strAttr(span.attributes, a); if (peer) break; }
                if (!store.put(key, { clientService: service, clientDims: dims(span, resAttrs), clientSeconds: seconds, failed, messaging, peer }, now)) {
                  dropped.add(1, { connector: id, reason: 'store_full' });
                }
              } else {
                const parent = span.parentSpanId;
                if (!parent || parent.length === 0) {
                  // A root server span: the caller is outside the traced world (a user).
                  complete({ clientService: 'user', serverService: service, serverDims: dims(span, resAttrs), serverSeconds: seconds, failed, messaging, expiresAt: 0 }, 'virtual_node');
                  continue;
                }
                const key = pairKey(span.traceId, parent);
                const other = store.take(key);
                if (other) {
                  complete({ ...other, serverService: service, serverDims: dims(span, resAttrs), serverSeconds: seconds, failed: other.failed || failed }, other.messaging || messaging ? 'messaging_system' : '');
                  continue;
                }
                if (!store.put(key, { serverService: service, serverDims: dims(span, resAttrs), serverSeconds: seconds, failed, messaging }, now)) {
                  dropped.add(1, { connector: id, reason: 'store_full' });
                }
              }
            }
          }
        }
      },
      async start() {
        expireTimer = setInterval(() => expire(Date.now()), Math.max(10, Math.floor(cfg.store.ttl / 2)));
        expireTimer.unref();
        flushTimer = setInterval(() => { void flush(); }, cfg.metrics_flush_interval);
        flushTimer.unref();
      },
      async shutdown() {
        clearInterval(expireTimer);
        clearInterval(flushTimer);
        expire(Number.POSITIVE_INFINITY);
        await flush();
      },
    };
  },
};
