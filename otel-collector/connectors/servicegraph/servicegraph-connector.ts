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
import { EdgeStore, HalfEdge } from './edge-store.js';
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

// A binary-string key of trace id + span id: exact, and cheaper than hex. Decoded ids are Buffer
// slices of the request, whose latin1Slice makes the string without a wrapper object.
type Latin1 = { latin1Slice(start: number, end: number): string };
function idString(b: Uint8Array): string {
  return typeof (b as unknown as Latin1).latin1Slice === 'function'
    ? (b as unknown as Latin1).latin1Slice(0, b.length)
    : Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}
function pairKey(traceId: Uint8Array, spanId: Uint8Array): string {
  return idString(traceId) + idString(spanId);
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
    const unpairedClient = unpaired.bind({ connector: id, side: 'client' });
    const unpairedServer = unpaired.bind({ connector: id, side: 'server' });
    const droppedFull = dropped.bind({ connector: id, reason: 'store_full' });
    const droppedSeries = dropped.bind({ connector: id, reason: 'max_series' });
    const edges = tel.counter('connector_servicegraph_edges', 'Completed client→server edges.').bind({ connector: id });
    const store = new EdgeStore(cfg.store.ttl, cfg.store.max_items);
    const series = new SeriesStore(cfg.latency_histogram_buckets, cfg.max_series);
    const labelNames = ['client', 'server', 'connection_type',
      ...cfg.dimensions.map((d) => `client_${promLabel(d)}`), ...cfg.dimensions.map((d) => `server_${promLabel(d)}`)];
    const noDims: string[] = cfg.dimensions.map(() => '');
    const hasDims = cfg.dimensions.length > 0;
    const peerAttrs = cfg.virtual_node_peer_attributes;
    tel.gauge('connector_servicegraph_store_items', 'Half-edges waiting for their other half.', () => store.size, { connector: id });

    const dims = (span: Span, resAttrs: KeyValue[] | undefined) =>
      hasDims ? cfg.dimensions.map((d) => strAttr(span.attributes, d) ?? strAttr(resAttrs, d) ?? '') : noDims;

    const complete = (e: HalfEdge, connectionType: string) => {
      const client = e.clientService ?? 'unknown';
      const server = e.serverService ?? 'unknown';
      let key = `${client}\u0000${server}\u0000${connectionType}`;
      if (hasDims) key += `\u0000${(e.clientDims ?? noDims).join('\u0000')}\u0000${(e.serverDims ?? noDims).join('\u0000')}`;
      const labels = () => [client, server, connectionType, ...(e.clientDims ?? noDims), ...(e.serverDims ?? noDims)];
      if (series.record(key, labels, labelNames, e.failed, e.clientSeconds, e.serverSeconds)) edges.add(1);
      else droppedSeries.add(1);
    };

    const expire = (now: number) => {
      for (const e of store.expire(now)) {
        if (e.clientService !== undefined && e.peer !== undefined) {
          e.serverService = e.peer;
          complete(e, 'virtual_node');
        } else if (e.clientService !== undefined) {
          unpairedClient.add(1);
        } else {
          unpairedServer.add(1);
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

    const onClient = (span: Span, service: string, resAttrs: KeyValue[] | undefined, seconds: number, failed: boolean, messaging: boolean, now: number) => {
      const key = pairKey(span.traceId, span.spanId);
      const other = store.take(key);
      if (other !== undefined) {
        other.clientService = service;
        other.clientDims = dims(span, resAttrs);
        other.clientSeconds = seconds;
        other.failed ||= failed;
        complete(other, other.messaging || messaging ? 'messaging_system' : '');
        return;
      }
      const e = new HalfEdge();
      e.clientService = service; e.clientDims = dims(span, resAttrs); e.clientSeconds = seconds; e.failed = failed; e.messaging = messaging;
      for (let i = 0; i < peerAttrs.length && e.peer === undefined; i++) e.peer = strAttr(span.attributes, peerAttrs[i]!);
      if (!store.put(key, e, now)) droppedFull.add(1);
    };

    const onServer = (span: Span, service: string, resAttrs: KeyValue[] | undefined, seconds: number, failed: boolean, messaging: boolean, now: number) => {
      const parent = span.parentSpanId;
      if (!parent || parent.length === 0) {
        // A root server span: the caller is outside the traced world (a user).
        const e = new HalfEdge();
        e.clientService = 'user'; e.serverService = service; e.serverDims = dims(span, resAttrs); e.serverSeconds = seconds; e.failed = failed;
        complete(e, 'virtual_node');
        return;
      }
      const key = pairKey(span.traceId, parent);
      const other = store.take(key);
      if (other !== undefined) {
        other.serverService = service;
        other.serverDims = dims(span, resAttrs);
        other.serverSeconds = seconds;
        other.failed ||= failed;
        complete(other, other.messaging || messaging ? 'messaging_system' : '');
        return;
      }
      const e = new HalfEdge();
      e.serverService = service; e.serverDims = dims(span, resAttrs); e.serverSeconds = seconds; e.failed = failed; e.messaging = messaging;
      if (!store.put(key, e, now)) droppedFull.add(1);
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
              if (kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER) {
                const seconds = nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano) / 1e9;
                onClient(span, service, resAttrs, seconds, span.status?.code === StatusCode.ERROR, kind === SpanKind.PRODUCER, now);
              } else if (kind === SpanKind.SERVER || kind === SpanKind.CONSUMER) {
                const seconds = nanosBetween(span.startTimeUnixNano, span.endTimeUnixNano) / 1e9;
                onServer(span, service, resAttrs, seconds, span.status?.code === StatusCode.ERROR, kind === SpanKind.CONSUMER, now);
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
