// The instruments without a kernel: event → series and labels (peer rules, bounds, error.type),
// Prometheus names, OTLP data model, and the reset-reason table parsed from a tracepoint format.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregationTemporality, DataPointType } from '@opentelemetry/sdk-metrics';
import { TcpMetrics, TCP_METRIC } from '../../agent/network-health/tcp-metrics.js';
import { OTHER_PEER, TcpEventMetrics, UNATTRIBUTED_SERVICE, connectErrorType } from '../../agent/network-health/tcp-event-metrics.js';
import { ResetReasons, parseResetReasons } from '../../agent/network-health/reset-reasons.js';
import type { TcpEvent } from '../../agent/network-health/tcp-event-decoder.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';

const identities = { get: (p: { pid: number; comm: string }) => ({ pid: p.pid, serviceName: `svc-${p.comm}`, attributes: {}, resource: undefined as never }) };

function setup(maxPeers = 100) {
  const telemetry = new TelemetryRegistry();
  const metrics = new TcpMetrics({ telemetry });
  const reasons = new ResetReasons(new Map([[1, 'no_socket'], [14, 'tcp_state']]));
  return { telemetry, metrics, ev: new TcpEventMetrics(metrics, identities, reasons, telemetry, maxPeers) };
}

const base: TcpEvent = { kind: 'connect', tsNs: 1, sock: 1n, role: 'client', errno: 0, state: 2, noSocket: false, netns: 1,
  localAddr: '198.19.9.1', localPort: 40000, remoteAddr: '198.19.9.2', remotePort: 8080, owner: { pid: 7, comm: 'app' } };

test('connect: duration with error.type on failure; opened only when established', () => {
  const { metrics, ev } = setup();
  ev.onEvent({ ...base, established: true, durationS: 0.002 });
  ev.onEvent({ ...base, established: false, errno: 111, durationS: 0.0001 });
  ev.onEvent({ ...base, established: false, errno: 110, durationS: 3 });
  const peer = { 'server.address': '198.19.9.2', 'server.port': 8080 };
  assert.equal(metrics.total(TCP_METRIC.connectDuration, peer, 'svc-app'), 3);
  assert.equal(metrics.total(TCP_METRIC.connectDuration, { ...peer, 'error.type': 'connection_refused' }), 1);
  assert.equal(metrics.total(TCP_METRIC.connectDuration, { ...peer, 'error.type': 'timeout' }), 1);
  assert.equal(metrics.total(TCP_METRIC.connections, { 'sockeye.tcp.connection.event': 'opened' }), 1);
  assert.deepEqual([104, 113, 101, 0, 5].map(connectErrorType), ['connection_reset', 'host_unreachable', 'host_unreachable', 'connection_aborted', '_OTHER']);
});

test('accepting side: client address and its own port, never the client\'s ephemeral port', () => {
  const { metrics, ev } = setup();
  ev.onEvent({ ...base, kind: 'accept', role: 'server', localPort: 8080, remoteAddr: '198.19.9.1', remotePort: 51234, durationS: 0 });
  const [s] = metrics.series();
  assert.deepEqual(s!.attributes, { 'sockeye.tcp.role': 'server', 'client.address': '198.19.9.1', 'server.port': 8080, 'sockeye.tcp.connection.event': 'opened' });
});

test('peers beyond the cap go to _OTHER and are counted; unattributed events are counted and kept', () => {
  const { metrics, ev, telemetry } = setup(2);
  for (let i = 0; i < 4; i++) ev.onEvent({ ...base, kind: 'retransmit', retransmit: 'data', remotePort: 9000 + i });
  assert.equal(metrics.total(TCP_METRIC.retransmits, { 'server.address': OTHER_PEER }), 2);
  assert.equal(telemetry.get('sockeye_tcp_peer_overflow_total'), 2);
  ev.onEvent({ ...base, kind: 'reset_sent', owner: undefined, role: 'unknown', noSocket: true, state: 0, resetReason: 1 });
  assert.equal(metrics.total(TCP_METRIC.resets, { 'sockeye.tcp.reset.direction': 'sent', 'sockeye.tcp.reset.reason': 'no_socket' }, UNATTRIBUTED_SERVICE), 1);
  assert.equal(telemetry.get('sockeye_tcp_events_unattributed_total', { kind: 'reset_sent' }), 1);
});

test('Prometheus names: _seconds for s histograms, _total for counters, attribute names with _', () => {
  const { metrics, ev } = setup();
  ev.onEvent({ ...base, established: false, errno: 111, durationS: 0.0001 });
  ev.onEvent({ ...base, kind: 'reset_received', state: 1 });
  ev.onEvent({ ...base, kind: 'listen_overflow', role: 'server', localPort: 8080 });
  const text = metrics.renderPrometheus();
  assert.match(text, /^# TYPE sockeye_tcp_connect_duration_seconds histogram$/m);
  assert.match(text, /^sockeye_tcp_connect_duration_seconds_bucket\{service_name="svc-app",server_address="198\.19\.9\.2",server_port="8080",error_type="connection_refused",le="0\.0001"\} 1$/m);
  assert.match(text, /^sockeye_tcp_connect_duration_seconds_count\{.*\} 1$/m);
  assert.match(text, /^sockeye_tcp_resets_total\{service_name="svc-app",sockeye_tcp_role="client",server_address="198\.19\.9\.2",server_port="8080",sockeye_tcp_reset_direction="received",sockeye_tcp_state="established"\} 1$/m);
  assert.match(text, /^sockeye_tcp_listen_overflows_total\{service_name="svc-app",server_port="8080"\} 1$/m);
});

test('OTLP model: monotonic sums and second histograms per service resource, delta when asked', () => {
  const { metrics, ev } = setup();
  ev.onEvent({ ...base, kind: 'close', durationS: 2, srttS: 0.0004 });
  ev.onEvent({ ...base, kind: 'close', durationS: 4, srttS: 0.0002 });
  const [rm] = metrics.collect();
  assert.equal(rm!.resource.attributes['service.name'], 'svc-app');
  const byName = Object.fromEntries(rm!.scopeMetrics[0]!.metrics.map((m) => [m.descriptor.name, m]));
  const conns = byName[TCP_METRIC.connections]!;
  assert.equal(conns.dataPointType, DataPointType.SUM);
  assert.equal((conns as { isMonotonic?: boolean }).isMonotonic, true);
  assert.equal(conns.dataPoints[0]!.value, 2);
  const life = byName[TCP_METRIC.connectionDuration]!;
  assert.equal(life.descriptor.unit, 's');
  assert.deepEqual({ count: (life.dataPoints[0]!.value as { count: number }).count, sum: (life.dataPoints[0]!.value as { sum: number }).sum }, { count: 2, sum: 6 });
  assert.ok(Math.abs((byName[TCP_METRIC.rtt]!.dataPoints[0]!.value as { sum: number }).sum - 0.0006) < 1e-12, 'RTT in seconds');
  assert.equal(metrics.collect(AggregationTemporality.DELTA)[0]!.scopeMetrics[0]!.metrics.length, 3);
});

test('reset reasons: names from the tracepoint format; numbers when unknown', () => {
  const fmt = 'print fmt: "... reason=%s", REC->state, __print_symbolic(REC->reason, { 0, "NOT_SPECIFIED" }, { 1, "NO_SOCKET" }, { 11, "TCP_ABORT_ON_CLOSE" })';
  assert.deepEqual([...parseResetReasons(fmt)], [[0, 'not_specified'], [1, 'no_socket'], [11, 'tcp_abort_on_close']]);
  assert.equal(new ResetReasons(new Map()).name(11), '11');
});
