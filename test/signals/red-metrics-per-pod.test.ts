// RED series are per service AND pod: two pods of one service name on a node (or two namespaces'
// processes that are both called `server`) must not share a histogram, and the pod UID on the
// metric resource is what lets the collector add namespace, pod and owner to the metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RedMetrics } from '../../agent/signals/red-metrics.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { METRIC } from '../../common/semconv/semconv.js';

const POD_A = '6f1e2a3b-0000-4000-8000-00000000000a';
const POD_B = '6f1e2a3b-0000-4000-8000-00000000000b';
const rec = (seconds: number) => ({ name: METRIC.httpServer, seconds, attributes: { 'http.request.method': 'GET', 'http.route': '/', 'http.response.status_code': 200 } });

test('one service name in two pods: two resources with k8s.pod.uid, two Prometheus series; no pod → no pod label', async () => {
  const red = new RedMetrics({ telemetry: new TelemetryRegistry() });
  red.record('server', rec(0.02), POD_A);
  red.record('server', rec(0.02), POD_A);
  red.record('server', rec(0.3), POD_B);
  red.record('server', rec(0.001));
  const all = await red.collect();
  const byPod = new Map(all.map((rm) => [rm.resource.attributes['k8s.pod.uid'], rm]));
  assert.equal(all.length, 3);
  assert.deepEqual([...byPod.keys()].sort(), [POD_A, POD_B, undefined].sort());
  const count = (pod: string | undefined) => (byPod.get(pod)!.scopeMetrics[0]!.metrics[0]!.dataPoints[0]!.value as { count: number }).count;
  assert.deepEqual([count(POD_A), count(POD_B), count(undefined)], [2, 1, 1]);
  for (const rm of all) assert.equal(rm.resource.attributes['service.name'], 'server');

  const text = await red.renderPrometheus();
  const counts = text.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{'));
  assert.equal(counts.length, 3);
  assert.equal(new Set(counts.map((l) => l.slice(0, l.lastIndexOf(' ')))).size, 3, 'no duplicate series');
  assert.ok(counts.some((l) => l.includes(`k8s_pod_uid="${POD_A}"`) && l.endsWith(' 2')));
  assert.ok(counts.some((l) => l.includes(`k8s_pod_uid="${POD_B}"`) && l.endsWith(' 1')));
  assert.ok(counts.some((l) => !l.includes('k8s_pod_uid') && l.endsWith(' 1')));
  await red.shutdown();
});

test('the series cap counts service and pod pairs; beyond it records fold into the overflow service, counted', async () => {
  const telemetry = new TelemetryRegistry();
  const red = new RedMetrics({ telemetry, maxServices: 2 });
  red.record('server', rec(0.01), POD_A);
  red.record('server', rec(0.01), POD_B);
  red.record('server', rec(0.01), '6f1e2a3b-0000-4000-8000-00000000000c');
  const names = (await red.collect()).map((rm) => `${rm.resource.attributes['service.name']}/${rm.resource.attributes['k8s.pod.uid'] ?? '-'}`).sort();
  assert.deepEqual(names, [`server/${POD_A}`, `server/${POD_B}`, 'sockeye.overflow/-']);
  assert.equal(telemetry.get('sockeye_metric_services_overflow_total'), 1);
  await red.shutdown();
});
