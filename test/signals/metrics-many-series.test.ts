// /metrics with 100k series in one histogram: the render streams through the real HTTP server in
// pieces (no call-stack or argument limits, no whole-body string), and the scrape's extra memory is
// bounded: the live heap + external memory above the start, sampled after a GC while the body
// streams, must stay under 50 MB; it and the RSS growth are printed as information.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { get } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { RedMetrics } from '../../agent/signals/red-metrics.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { TelemetryServer } from '../../agent/telemetry/telemetry-server.js';
import { METRIC } from '../../common/semconv/semconv.js';

const SERIES = 100_000;
const COUNT_LINE = '\nhttp_client_request_duration_seconds_count{';

// What the scrape keeps alive, not garbage the young generation has yet to sweep: measured after a GC.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const used = () => { gc(); const m = process.memoryUsage(); return m.heapUsed + m.external; };

test('100k series render over /metrics, streamed, with bounded extra memory', { timeout: 180_000 }, async () => {
  const telemetry = new TelemetryRegistry();
  const red = new RedMetrics({ telemetry });
  for (let i = 0; i < SERIES; i++) {
    red.record('client', { name: METRIC.httpClient, seconds: (i % 100) / 1000,
      attributes: { 'http.request.method': 'GET', 'server.address': `h${i}.example.test`, 'server.port': 80, 'http.response.status_code': 200 } });
  }
  const server = await TelemetryServer.start({ listen: '127.0.0.1:0', notReadyReason: () => undefined,
    metrics: function* () { yield* red.prometheusChunks(); yield telemetry.render(); } });
  try {
    const before = used();
    let peak = before;
    let bytes = 0;
    let counts = 0;
    let chunks = 0;
    const rss = process.memoryUsage().rss;
    let tail = '';
    const status = await new Promise<number>((resolve, reject) => {
      get(`http://${server.address}/metrics`, (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          bytes += d.length;
          const text = '\n' + tail + d; // tail starts a line
          const cut = text.lastIndexOf('\n') + 1;
          for (let at = text.indexOf(COUNT_LINE); at >= 0 && at < cut - 1; at = text.indexOf(COUNT_LINE, at + 1)) counts++;
          tail = text.slice(cut);
          if (++chunks % 200 === 0) peak = Math.max(peak, used());
        });
        res.on('end', () => resolve(res.statusCode!));
        res.on('error', reject);
      }).on('error', reject);
    });
    const extraMb = (peak - before) / 2 ** 20;
    console.log(`# 100k series: ${(bytes / 2 ** 20).toFixed(1)} MB of text in ${chunks} chunks, peak extra live heap+external ${extraMb.toFixed(1)} MB, ` +
      `RSS ${((process.memoryUsage().rss - rss) / 2 ** 20).toFixed(1)} MB above the start`);
    assert.equal(status, 200);
    assert.equal(counts, SERIES, 'every series rendered');
    assert.equal(tail, '', 'the body ends with a newline');
    assert.ok(extraMb < 50, `extra memory ${extraMb.toFixed(1)} MB`);
  } finally {
    await server.close();
    await red.shutdown();
  }
});
