// connector `servicegraph` on its own: pairing client and server halves in either order, failed
// requests, messaging edges, virtual nodes, expiry of unpaired halves and the bounded store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servicegraphConnectorFactory } from '../../../../otel-collector/connectors/servicegraph/servicegraph-connector.js';
import { parseComponentId } from '../../../../otel-collector/component/component-id.js';
import { SelfTelemetry } from '../../../../otel-collector/component/self-telemetry.js';
import { silentLogger } from '../../../../otel-collector/component/logger.js';
import type { Host } from '../../../../otel-collector/component/factory.js';
import { SpanKind, StatusCode, int64FromBigInt, int64ToNumber, type Metrics, type Traces, type Span } from '../../../../otel-collector/pdata/index.js';

const host: Host = { getExtension: () => undefined, isReady: () => true, reportFatal: () => {} };
let seq = 1;
const id8 = () => { const b = new Uint8Array(8); new DataView(b.buffer).setUint32(4, seq++); b[0] = 1; return b; };
const id16 = () => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(12, seq++); b[0] = 1; return b; };

function span(kind: SpanKind, traceId: Uint8Array, spanId: Uint8Array, parent: Uint8Array | undefined, ms: number, extra: Partial<Span> = {}): Span {
  const start = 1_700_000_000_000_000_000n;
  return {
    traceId, spanId, parentSpanId: parent, name: 'op', kind, attributes: [],
    startTimeUnixNano: int64FromBigInt(start), endTimeUnixNano: int64FromBigInt(start + BigInt(ms * 1e6)), ...extra,
  };
}
const batch = (service: string, spans: Span[]): Traces => ({
  resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ spans }] }],
});

async function connector(cfgOverrides: Record<string, unknown> = {}) {
  const telemetry = new SelfTelemetry();
  const out: Metrics[] = [];
  const cfg = servicegraphConnectorFactory.config.parse({ metrics_flush_interval: '1h', ...cfgOverrides }, 'connectors.servicegraph');
  const c = servicegraphConnectorFactory.create(
    { id: parseComponentId('servicegraph', 'x'), telemetry, logger: silentLogger }, cfg, 'traces', 'metrics',
    { consumeMetrics: async (m) => { out.push(m); } },
  );
  await c.start(host);
  const final = async () => { await c.shutdown(); return out.at(-1)!; };
  return { c, telemetry, final };
}

function point(m: Metrics, name: string, labels: Record<string, string>): number | undefined {
  for (const rm of m.resourceMetrics) for (const sm of rm.scopeMetrics) for (const metric of sm.metrics) {
    if (metric.name !== name) continue;
    const pts = (metric.sum?.dataPoints ?? metric.histogram?.dataPoints ?? []) as { attributes: { key: string; value?: { stringValue?: string | null } | null }[]; asInt?: never; count?: never }[];
    for (const p of pts) {
      const ok = Object.entries(labels).every(([k, v]) => p.attributes.find((a) => a.key === k)?.value?.stringValue === v);
      if (ok) return int64ToNumber(p.count ?? p.asInt);
    }
  }
  return undefined;
}

test('pairs client and server spans in either arrival order; counts failures; histograms per side', async () => {
  const { c, final, telemetry } = await connector();
  for (let i = 0; i < 6; i++) {
    const t = id16(); const cs = id8();
    const client = span(SpanKind.CLIENT, t, cs, undefined, 12, i === 0 ? { status: { code: StatusCode.ERROR } } : {});
    const server = span(SpanKind.SERVER, t, id8(), cs, 10);
    if (i % 2) { await c.consumeTraces!(batch('web', [client])); await c.consumeTraces!(batch('api', [server])); }
    else { await c.consumeTraces!(batch('api', [server])); await c.consumeTraces!(batch('web', [client])); }
  }
  const m = await final();
  const labels = { client: 'web', server: 'api', connection_type: '' };
  assert.equal(point(m, 'traces_service_graph_request_total', labels), 6);
  assert.equal(point(m, 'traces_service_graph_request_failed_total', labels), 1);
  assert.equal(point(m, 'traces_service_graph_request_server_seconds', labels), 6);
  assert.equal(point(m, 'traces_service_graph_request_client_seconds', labels), 6);
  assert.equal(telemetry.total('connector_servicegraph_unpaired_spans'), 0);
});

test('producer/consumer pairs are messaging_system edges; root server spans come from "user"', async () => {
  const { c, final } = await connector();
  const t = id16(); const p = id8();
  await c.consumeTraces!(batch('orders', [span(SpanKind.PRODUCER, t, p, undefined, 1)]));
  await c.consumeTraces!(batch('billing', [span(SpanKind.CONSUMER, t, id8(), p, 3)]));
  await c.consumeTraces!(batch('gateway', [span(SpanKind.SERVER, id16(), id8(), undefined, 3)]));
  const m = await final();
  assert.equal(point(m, 'traces_service_graph_request_total', { client: 'orders', server: 'billing', connection_type: 'messaging_system' }), 1);
  assert.equal(point(m, 'traces_service_graph_request_total', { client: 'user', server: 'gateway', connection_type: 'virtual_node' }), 1);
});

test('halves that expire: client with peer.service becomes a virtual node edge, others count as unpaired', async () => {
  const { c, final, telemetry } = await connector({ store: { ttl: '50ms' } });
  const peer = [{ key: 'peer.service', value: { stringValue: 'postgres' } }];
  await c.consumeTraces!(batch('web', [
    span(SpanKind.CLIENT, id16(), id8(), undefined, 5, { attributes: peer }),
    span(SpanKind.CLIENT, id16(), id8(), undefined, 5),
  ]));
  await c.consumeTraces!(batch('api', [span(SpanKind.SERVER, id16(), id8(), id8(), 5)]));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(telemetry.total('connector_servicegraph_unpaired_spans', { side: 'client' }), 1);
  assert.equal(telemetry.total('connector_servicegraph_unpaired_spans', { side: 'server' }), 1);
  const m = await final();
  assert.equal(point(m, 'traces_service_graph_request_total', { client: 'web', server: 'postgres', connection_type: 'virtual_node' }), 1);
});

test('virtual nodes by default: the current semconv name wins over the deprecated peer.service', async () => {
  const { c, final } = await connector({ store: { ttl: '50ms' } });
  const both = [
    { key: 'peer.service', value: { stringValue: 'old-name' } },
    { key: 'server.service.name', value: { stringValue: 'billing' } },
  ];
  const db = [{ key: 'db.system.name', value: { stringValue: 'postgresql' } }];
  await c.consumeTraces!(batch('web', [
    span(SpanKind.CLIENT, id16(), id8(), undefined, 5, { attributes: both }),
    span(SpanKind.CLIENT, id16(), id8(), undefined, 5, { attributes: db }),
  ]));
  await new Promise((r) => setTimeout(r, 200));
  const m = await final();
  assert.equal(point(m, 'traces_service_graph_request_total', { client: 'web', server: 'billing', connection_type: 'virtual_node' }), 1);
  assert.equal(point(m, 'traces_service_graph_request_total', { client: 'web', server: 'postgresql', connection_type: 'virtual_node' }), 1);
});

test('a full store drops new halves and counts them', async () => {
  const { c, telemetry, final } = await connector({ store: { max_items: 3 } });
  await c.consumeTraces!(batch('web', Array.from({ length: 5 }, () => span(SpanKind.CLIENT, id16(), id8(), undefined, 1))));
  assert.equal(telemetry.total('connector_servicegraph_dropped_spans', { reason: 'store_full' }), 2);
  await final();
});

test('config: defaults, and errors that name the key', () => {
  const d = servicegraphConnectorFactory.config.parse({}, 'connectors.servicegraph');
  assert.equal(d.store.ttl, 2000);
  assert.equal(d.store.max_items, 10_000);
  assert.deepEqual(d.latency_histogram_buckets.slice(0, 2), [0.005, 0.01]);
  assert.throws(() => servicegraphConnectorFactory.config.parse({ latency_histogram_buckets: [1, 0.5] }, 'connectors.servicegraph'),
    /connectors\.servicegraph\.latency_histogram_buckets: must be strictly increasing, but 0.5 follows 1/);
  assert.throws(() => servicegraphConnectorFactory.config.parse({ store: { ttl: 5 } }, 'connectors.servicegraph'),
    /connectors\.servicegraph\.store\.ttl: must be a duration like "200ms", "5s" or "1m", got 5/);
  assert.throws(() => servicegraphConnectorFactory.config.parse({ store: { max_items: 0 } }, 'connectors.servicegraph'),
    /connectors\.servicegraph\.store\.max_items: must be a positive integer, got 0/);
});
