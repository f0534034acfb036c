// /metrics, /healthz, /readyz over real HTTP, fed by the real signal pipeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { TelemetryServer } from '../../agent/telemetry/telemetry-server.js';
import { renderLiveView } from '../../cli/live-view.js';
import { httpTx } from '../signals/helpers/make-transaction.js';

test('/metrics shows RED histograms with semconv buckets and self-telemetry; /readyz follows readiness', async () => {
  const telemetry = new TelemetryRegistry();
  const p = new SignalPipeline({ telemetry, clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0 });
  let ready = false;
  const server = await TelemetryServer.start({ listen: '127.0.0.1:0', metrics: async function* () { yield* p.metrics.prometheusChunks(); yield telemetry.render(); },
    notReadyReason: () => (ready ? undefined : 'no capture program attached') });
  try {
    for (let i = 0; i < 4; i++) p.onTransaction(httpTx({ target: `/api/items/${i}` })); // 25 ms each
    p.onTransaction(httpTx({ target: '/api/items/5', status: 503, endNs: 1_000_000_000 + 600_000_000 }));
    const base = `http://${server.address}`;
    const r = await fetch(`${base}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    const body = await r.text();
    const service = p.resources.get(httpTx({}).process).serviceName; // this test process, named from its script
    const ok = `service_name="${service}",http_request_method="GET",network_protocol_version="1.1",http_route="/api/items/{id}",url_scheme="http",http_response_status_code="200"`;
    assert.ok(body.includes('# TYPE http_server_request_duration_seconds histogram'));
    assert.ok(body.includes(`http_server_request_duration_seconds_bucket{${ok},le="0.01"} 0`), body);
    assert.ok(body.includes(`http_server_request_duration_seconds_bucket{${ok},le="0.025"} 4`));
    assert.ok(body.includes(`http_server_request_duration_seconds_bucket{${ok},le="+Inf"} 4`));
    assert.ok(body.includes(`http_server_request_duration_seconds_count{${ok}} 4`));
    const les = [...body.matchAll(new RegExp(`_bucket\\{${ok.replace(/[{}.()/]/g, '\\$&')},le="([^"]+)"\\}`, 'g'))].map((m) => m[1]);
    assert.deepEqual(les, ['0.005', '0.01', '0.025', '0.05', '0.075', '0.1', '0.25', '0.5', '0.75', '1', '2.5', '5', '7.5', '10', '+Inf']);
    assert.match(body, /http_server_request_duration_seconds_bucket\{[^\n]*http_response_status_code="503",error_type="503",le="0.75"\} 1/);
    assert.match(body, /^sockeye_transactions_total\{protocol="http1"\} 5$/m);
    assert.match(body, /^sockeye_spans_total 5$/m);
    assert.match(body, /^sockeye_route_overflow_total 0$/m);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    assert.match(await notReady.text(), /no capture program attached/);
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    assert.equal((await fetch(`${base}/nope`)).status, 404);

    const view = renderLiveView(p.live.rows(), { uptimeS: 3, exportTarget: 'off', metricsUrl: `${base}/metrics`, counters: [['spans', 5]] });
    const row = view.split('\n').find((l) => l.includes('GET /api/items/{id}'))!;
    assert.ok(row, view);
    const cols = row.trim().split(/\s+/);
    assert.equal(cols.at(-3), '20.0', 'error rate 1 of 5');
    assert.match(cols.at(-2)!, /^2[45]\.\dms$/, 'p50 ≈ 25 ms');
    assert.match(cols.at(-1)!, /^6\d\d\.\dms$/, 'p99 ≈ 600 ms');
  } finally {
    await server.close();
    await p.shutdown();
  }
});
