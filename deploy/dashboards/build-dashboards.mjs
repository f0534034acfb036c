#!/usr/bin/env node
// Writes the Grafana dashboards in this folder (one JSON file each) from the panel lists below, so
// the PromQL lives in one readable place. Metric and label names are the ones our code serves:
// Prometheus names from the collector's prometheus exporter (OTLP → Prometheus translation: dots
// become "_", unit s → _seconds, counters end in _total) and the agent's /metrics; the test
// test/deploy/dashboard-metrics.test.ts checks every name against a live render.
// Run: node deploy/dashboards/build-dashboards.mjs   (--check: exit 1 when a file is stale)
import { readFileSync, writeFileSync } from 'node:fs';

const DS = { type: 'prometheus', uid: '${datasource}' };
const datasourceVar = { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: 0 };
const labelVar = (name, label, metric, labelName, multi = true) => ({
  name, label, type: 'query', datasource: DS, refresh: 2, includeAll: multi, multi, sort: 1,
  query: { query: `label_values(${metric}, ${labelName})`, refId: `${name}-values` },
  hide: 0,
});

let nextId = 1;
function panel(type, title, gridPos, targets, extra = {}) {
  return {
    id: nextId++, type, title, gridPos, datasource: DS,
    targets: targets.map((t, i) => ({ datasource: DS, refId: String.fromCharCode(65 + i), ...t })),
    ...extra,
  };
}
const ts = (title, gridPos, targets, unit, description) => panel('timeseries', title, gridPos, targets, {
  description, fieldConfig: { defaults: { unit, custom: { drawStyle: 'line', fillOpacity: 10 } }, overrides: [] },
  options: { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max'] }, tooltip: { mode: 'multi' } },
});
const stat = (title, gridPos, expr, unit, description) => panel('stat', title, gridPos, [{ expr, instant: true }], {
  description, fieldConfig: { defaults: { unit }, overrides: [] }, options: { reduceOptions: { calcs: ['lastNotNull'] }, colorMode: 'value' },
});
const table = (title, gridPos, targets, description, rename) => panel('table', title, gridPos, targets.map((t) => ({ format: 'table', instant: true, ...t })), {
  description,
  transformations: [{ id: 'merge', options: {} }, { id: 'organize', options: { excludeByName: { Time: true }, renameByName: rename } }],
});
const row = (title, y) => ({ id: nextId++, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });

function dashboard(uid, title, description, variables, panels) {
  return {
    uid, title, description, tags: ['sockeye'], editable: true, schemaVersion: 39, version: 1,
    time: { from: 'now-1h', to: 'now' }, refresh: '30s', timezone: '',
    templating: { list: [datasourceVar, ...variables] }, annotations: { list: [] }, panels,
  };
}

// 1. RED per service and route. service_name is a label on the agent's /metrics and, by default,
// on the collector's prometheus exporter (it promotes service.name; docs/collector.md).
function red() {
  nextId = 1;
  const sel = 'service_name=~"$service", http_route=~"$route"';
  const H = 'http_server_request_duration_seconds';
  const R = 'rpc_server_call_duration_seconds';
  return dashboard('sockeye-red', 'sockeye / RED by service and route',
    'Rate, errors and duration of the HTTP and gRPC traffic the sockeye agents observe, per service and route.',
    [labelVar('service', 'Service', `${H}_count`, 'service_name'), labelVar('route', 'Route', `${H}_count{service_name=~"$service"}`, 'http_route')],
    [
      row('HTTP server', 0),
      ts('Requests per second', { h: 8, w: 8, x: 0, y: 1 }, [{ expr: `sum by (service_name, http_route) (rate(${H}_count{${sel}}[$__rate_interval]))`, legendFormat: '{{service_name}} {{http_route}}' }], 'reqps'),
      ts('Error ratio (5xx)', { h: 8, w: 8, x: 8, y: 1 }, [{
        expr: `sum by (service_name, http_route) (rate(${H}_count{${sel}, http_response_status_code=~"5.."}[$__rate_interval])) / sum by (service_name, http_route) (rate(${H}_count{${sel}}[$__rate_interval]))`,
        legendFormat: '{{service_name}} {{http_route}}',
      }], 'percentunit', 'Server spans are errors for 5xx only (semantic conventions); 4xx are the client\'s. Requests whose outcome the capture lost have no status code and are never errors.'),
      ts('Duration p50 / p95 / p99', { h: 8, w: 8, x: 16, y: 1 }, [0.5, 0.95, 0.99].map((q) => ({
        expr: `histogram_quantile(${q}, sum by (service_name, le) (rate(${H}_bucket{${sel}}[$__rate_interval])))`, legendFormat: `{{service_name}} p${Math.round(q * 100)}`,
      })), 's'),
      table('Routes', { h: 9, w: 24, x: 0, y: 9 }, [
        { expr: `sum by (service_name, http_request_method, http_route) (rate(${H}_count{${sel}}[$__range]))` },
        { expr: `sum by (service_name, http_request_method, http_route) (rate(${H}_count{${sel}, error_type!=""}[$__range]))` },
        { expr: `histogram_quantile(0.95, sum by (service_name, http_request_method, http_route, le) (rate(${H}_bucket{${sel}}[$__range])))` },
      ], 'Every route of the selected services over the dashboard\'s time range.', { service_name: 'Service', http_request_method: 'Method', http_route: 'Route', 'Value #A': 'Requests/s', 'Value #B': 'Errors/s', 'Value #C': 'p95 (s)' }),
      row('gRPC server', 18),
      ts('Calls per second', { h: 8, w: 8, x: 0, y: 19 }, [{ expr: `sum by (service_name, rpc_method) (rate(${R}_count{service_name=~"$service"}[$__rate_interval]))`, legendFormat: '{{service_name}} {{rpc_method}}' }], 'reqps'),
      ts('Errors per second by status', { h: 8, w: 8, x: 8, y: 19 }, [{ expr: `sum by (service_name, rpc_status_code) (rate(${R}_count{service_name=~"$service", error_type!=""}[$__rate_interval]))`, legendFormat: '{{service_name}} {{rpc_status_code}}' }], 'reqps'),
      ts('Duration p95', { h: 8, w: 8, x: 16, y: 19 }, [{ expr: `histogram_quantile(0.95, sum by (service_name, rpc_method, le) (rate(${R}_bucket{service_name=~"$service"}[$__rate_interval])))`, legendFormat: '{{service_name}} {{rpc_method}}' }], 's'),
      row('Outgoing (client side)', 27),
      ts('HTTP client requests per second by peer', { h: 8, w: 8, x: 0, y: 28 }, [{ expr: `sum by (service_name, server_address) (rate(http_client_request_duration_seconds_count{service_name=~"$service"}[$__rate_interval]))`, legendFormat: '{{service_name}} → {{server_address}}' }], 'reqps'),
      ts('gRPC client calls p95 by peer', { h: 8, w: 8, x: 8, y: 28 }, [{ expr: `histogram_quantile(0.95, sum by (service_name, server_address, le) (rate(rpc_client_call_duration_seconds_bucket{service_name=~"$service"}[$__rate_interval])))`, legendFormat: '{{service_name}} → {{server_address}}' }], 's'),
      ts('DNS lookups p95', { h: 8, w: 8, x: 16, y: 28 }, [{ expr: `histogram_quantile(0.95, sum by (service_name, le) (rate(dns_lookup_duration_seconds_bucket{service_name=~"$service"}[$__rate_interval])))`, legendFormat: '{{service_name}}' }], 's'),
      ...networkHealthRow('service_name=~"$service"', 36),
    ]);
}

// TCP network health (docs/network-health.md): sockeye_tcp_* from the agent's own BPF programs.
function networkHealthRow(sel, y) {
  const C = 'sockeye_tcp_connect_duration_seconds';
  return [
    row('Network health (TCP)', y),
    ts('Failed connects per second by error', { h: 8, w: 8, x: 0, y: y + 1 }, [{ expr: `sum by (service_name, error_type) (rate(${C}_count{${sel}, error_type!=""}[$__rate_interval]))`, legendFormat: '{{service_name}} {{error_type}}' }], 'ops',
      'connection_refused, timeout, connection_reset, host_unreachable, connection_aborted (the application gave up first).'),
    ts('Connect time p95 by server', { h: 8, w: 8, x: 8, y: y + 1 }, [{ expr: `histogram_quantile(0.95, sum by (service_name, server_address, le) (rate(${C}_bucket{${sel}}[$__rate_interval])))`, legendFormat: '{{service_name}} → {{server_address}}' }], 's',
      'SYN sent to established or to failure: failed connects are included (a timeout shows here as seconds).'),
    ts('Smoothed RTT p95 (at close)', { h: 8, w: 8, x: 16, y: y + 1 }, [{ expr: `histogram_quantile(0.95, sum by (service_name, le) (rate(sockeye_tcp_rtt_seconds_bucket{${sel}}[$__rate_interval])))`, legendFormat: '{{service_name}}' }], 's'),
    ts('Retransmits per second', { h: 8, w: 8, x: 0, y: y + 9 }, [{ expr: `sum by (service_name, sockeye_tcp_retransmit_kind) (rate(sockeye_tcp_retransmits_total{${sel}}[$__rate_interval]))`, legendFormat: '{{service_name}} {{sockeye_tcp_retransmit_kind}}' }], 'ops'),
    ts('Resets per second by side and reason', { h: 8, w: 8, x: 8, y: y + 9 }, [{ expr: `sum by (service_name, sockeye_tcp_reset_direction, sockeye_tcp_reset_reason) (rate(sockeye_tcp_resets_total{${sel}}[$__rate_interval]))`, legendFormat: '{{service_name}} {{sockeye_tcp_reset_direction}} {{sockeye_tcp_reset_reason}}' }], 'ops',
      'sent: this side reset the connection (reason: the kernel\'s); received: the peer did. Resets for no socket are under service sockeye.unattributed.'),
    ts('Accept-queue overflows per second by port', { h: 8, w: 8, x: 16, y: y + 9 }, [{ expr: `sum by (service_name, server_port) (rate(sockeye_tcp_listen_overflows_total{${sel}}[$__rate_interval]))`, legendFormat: '{{service_name}} :{{server_port}}' }], 'ops',
      'A lower bound: handshake ACKs dropped at a full accept queue (Linux 6.x). SYNs refused by a full queue carry no drop reason and are not counted (docs/network-health.md, Limits).'),
    ts('Requests broken by a connection reset', { h: 8, w: 8, x: 0, y: y + 17 }, ['server', 'client'].map((side) => ({
      expr: `sum by (service_name) (rate(http_${side}_request_duration_seconds_count{${sel}, error_type="connection_reset"}[$__rate_interval]))`, legendFormat: `{{service_name}} ${side}`,
    })), 'reqps', 'HTTP requests whose connection was reset before the response was complete; the span carries a sockeye.tcp.reset event saying which side sent it.'),
    ts('Resets per second by peer workload', { h: 8, w: 8, x: 8, y: y + 17 }, [{ expr: `sum by (service_name, sockeye_peer_kind, sockeye_peer_k8s_namespace_name, sockeye_peer_k8s_pod_name, sockeye_peer_k8s_service_name, sockeye_tcp_reset_direction) (rate(sockeye_tcp_resets_total{${sel}}[$__rate_interval]))`,
      legendFormat: '{{service_name}} {{sockeye_tcp_reset_direction}} ↔ {{sockeye_peer_kind}} {{sockeye_peer_k8s_namespace_name}}/{{sockeye_peer_k8s_pod_name}}{{sockeye_peer_k8s_service_name}}' }], 'ops',
      'The peer\'s Kubernetes identity is added by the collector\'s k8s_attributes processor (empty when scraped from the agent).'),
    ts('Failed connects per second by peer workload', { h: 8, w: 8, x: 16, y: y + 17 }, [{ expr: `sum by (service_name, error_type, sockeye_peer_kind, sockeye_peer_k8s_namespace_name, sockeye_peer_k8s_pod_name, sockeye_peer_k8s_service_name) (rate(${C}_count{${sel}, error_type!=""}[$__rate_interval]))`,
      legendFormat: '{{service_name}} → {{sockeye_peer_kind}} {{sockeye_peer_k8s_namespace_name}}/{{sockeye_peer_k8s_pod_name}}{{sockeye_peer_k8s_service_name}} {{error_type}}' }], 'ops'),
  ];
}

// 2. Service graph from the collector's servicegraph connector.
function graph() {
  nextId = 1;
  const T = 'traces_service_graph_request_total';
  const F = 'traces_service_graph_request_failed_total';
  const S = 'traces_service_graph_request_server_seconds';
  const C = 'traces_service_graph_request_client_seconds';
  const edge = 'client=~"$client", server=~"$server"';
  // Nodes: every name seen as a client or a server (label_replace copies it into one "node" label).
  // Each node row needs an id and a title (Grafana's node graph draws unlabelled circles without one):
  // both copied from the service name.
  const asNode = (from) => `sum by (node, title) (label_replace(label_replace(rate(${T}{${edge}}[$__range]), "node", "$1", "${from}", "(.*)"), "title", "$1", "${from}", "(.*)"))`;
  const nodes = `${asNode('server')} or ${asNode('client')}`;
  return dashboard('sockeye-service-graph', 'sockeye / service graph',
    'Who calls whom, how often, how often it fails and how long it takes, from client/server span pairs matched by the collector.',
    [labelVar('client', 'Client', T, 'client'), labelVar('server', 'Server', T, 'server')],
    [
      panel('nodeGraph', 'Service graph', { h: 14, w: 24, x: 0, y: 0 }, [
        { expr: `sum by (client, server) (rate(${T}{${edge}}[$__range]))`, format: 'table', instant: true },
        { expr: nodes, format: 'table', instant: true },
      ], {
        description: 'Edges A: client → server request rate. Nodes B: every service seen, titled by its name.',
        transformations: [
          { id: 'calculateField', options: { mode: 'index', alias: 'id', replaceFields: false }, filter: { id: 'byRefId', options: 'A' } },
          { id: 'organize', options: { excludeByName: { Time: true }, renameByName: { client: 'source', server: 'target', 'Value #A': 'mainstat', node: 'id', 'Value #B': 'mainstat' } } },
        ],
        options: { edges: { mainStatUnit: 'reqps' }, nodes: { mainStatUnit: 'reqps' } },
      }),
      table('Edges', { h: 10, w: 24, x: 0, y: 14 }, [
        { expr: `sum by (client, server) (rate(${T}{${edge}}[$__range]))` },
        { expr: `sum by (client, server) (rate(${F}{${edge}}[$__range])) / sum by (client, server) (rate(${T}{${edge}}[$__range]))` },
        { expr: `histogram_quantile(0.95, sum by (client, server, le) (rate(${S}_bucket{${edge}}[$__range])))` },
        { expr: `histogram_quantile(0.95, sum by (client, server, le) (rate(${C}_bucket{${edge}}[$__range])))` },
      ], 'Server p95 is measured at the callee, client p95 at the caller; the difference is network and queueing.',
      { client: 'Client', server: 'Server', 'Value #A': 'Requests/s', 'Value #B': 'Failed ratio', 'Value #C': 'Server p95 (s)', 'Value #D': 'Client p95 (s)' }),
      ts('Requests per second by edge', { h: 8, w: 12, x: 0, y: 24 }, [{ expr: `sum by (client, server) (rate(${T}{${edge}}[$__rate_interval]))`, legendFormat: '{{client}} → {{server}}' }], 'reqps'),
      ts('Failed requests per second by edge', { h: 8, w: 12, x: 12, y: 24 }, [{ expr: `sum by (client, server) (rate(${F}{${edge}}[$__rate_interval]))`, legendFormat: '{{client}} → {{server}}' }], 'reqps'),
      ts('Server-side p95 by edge', { h: 8, w: 12, x: 0, y: 32 }, [{ expr: `histogram_quantile(0.95, sum by (client, server, le) (rate(${S}_bucket{${edge}}[$__rate_interval])))`, legendFormat: '{{client}} → {{server}}' }], 's'),
      ts('Mean client-side duration by edge', { h: 8, w: 12, x: 12, y: 32 }, [{ expr: `sum by (client, server) (rate(${C}_sum{${edge}}[$__rate_interval])) / sum by (client, server) (rate(${C}_count{${edge}}[$__rate_interval]))`, legendFormat: '{{client}} → {{server}}' }], 's'),
    ]);
}

// 3. The agents' own counters (GET /metrics on each agent, port 9464).
function selfTelemetry() {
  nextId = 1;
  const inst = 'instance=~"$instance"';
  return dashboard('sockeye-self-telemetry', 'sockeye / agent self-telemetry',
    'What the agents lose, fail to parse, drop and export. Every lost or dropped item is counted here.',
    [labelVar('instance', 'Agent', 'sockeye_spans_total', 'instance')],
    [
      stat('Lost kernel events /s', { h: 4, w: 6, x: 0, y: 0 }, `sum(rate(sockeye_capture{${inst}, counter="lostEvents"}[$__rate_interval]))`, 'cps', 'Ring buffer full: the kernel could not reserve space. Raise capture.ring_buffer_bytes.'),
      stat('Parse errors /s', { h: 4, w: 6, x: 6, y: 0 }, `sum(rate(sockeye_engine{${inst}, counter=~".+_parse_errors"}[$__rate_interval]))`, 'cps'),
      stat('Spans dropped /s', { h: 4, w: 6, x: 12, y: 0 }, `sum(rate(sockeye_spans_dropped_total{${inst}}[$__rate_interval]))`, 'cps'),
      stat('Spans exported /s', { h: 4, w: 6, x: 18, y: 0 }, `sum(rate(sockeye_spans_exported_total{${inst}}[$__rate_interval]))`, 'cps'),
      ts('Kernel capture', { h: 8, w: 12, x: 0, y: 4 }, [
        { expr: `sum by (instance) (rate(sockeye_capture{${inst}, counter="events"}[$__rate_interval]))`, legendFormat: '{{instance}} events' },
        { expr: `sum by (instance) (rate(sockeye_capture{${inst}, counter="lostEvents"}[$__rate_interval]))`, legendFormat: '{{instance}} lost' },
        { expr: `sum by (instance) (rate(sockeye_capture{${inst}, counter="decodeErrors"}[$__rate_interval]))`, legendFormat: '{{instance}} decode errors' },
      ], 'cps'),
      ts('Lost bytes (kernel and stream gaps)', { h: 8, w: 12, x: 12, y: 4 }, [
        { expr: `sum by (instance) (rate(sockeye_capture{${inst}, counter="lostBytes"}[$__rate_interval]))`, legendFormat: '{{instance}} ring buffer' },
        { expr: `sum by (instance) (rate(sockeye_engine{${inst}, counter="engine_gap_bytes"}[$__rate_interval]))`, legendFormat: '{{instance}} stream gaps' },
      ], 'Bps'),
      ts('Parse errors by protocol counter', { h: 8, w: 12, x: 0, y: 12 }, [{ expr: `sum by (counter) (rate(sockeye_engine{${inst}, counter=~".+_parse_errors"}[$__rate_interval]))`, legendFormat: '{{counter}}' }], 'cps'),
      ts('Transactions by protocol', { h: 8, w: 12, x: 12, y: 12 }, [
        { expr: `sum by (protocol) (rate(sockeye_transactions_total{${inst}}[$__rate_interval]))`, legendFormat: '{{protocol}}' },
        { expr: `sum by (protocol) (rate(sockeye_transactions_incomplete_total{${inst}, reason="capture_gap"}[$__rate_interval]))`, legendFormat: '{{protocol}} outcome lost by capture' },
      ], 'cps', 'Transactions whose outcome the capture lost are counted in RED without an error or a status code: never as the application\'s errors.'),
      ts('Span export', { h: 8, w: 12, x: 0, y: 20 }, [
        { expr: `sum(rate(sockeye_spans_total{${inst}}[$__rate_interval]))`, legendFormat: 'built' },
        { expr: `sum(rate(sockeye_spans_exported_total{${inst}}[$__rate_interval]))`, legendFormat: 'exported' },
        { expr: `sum by (reason) (rate(sockeye_spans_dropped_total{${inst}}[$__rate_interval]))`, legendFormat: 'dropped: {{reason}}' },
      ], 'cps'),
      ts('Metric export and overflow', { h: 8, w: 12, x: 12, y: 20 }, [
        { expr: `sum(rate(sockeye_metric_points_exported_total{${inst}}[$__rate_interval]))`, legendFormat: 'points exported' },
        { expr: `sum by (reason) (rate(sockeye_metric_points_dropped_total{${inst}}[$__rate_interval]))`, legendFormat: 'points dropped: {{reason}}' },
        { expr: `sum(rate(sockeye_route_overflow_total{${inst}}[$__rate_interval]))`, legendFormat: 'route overflow' },
        { expr: `sum(rate(sockeye_metric_services_overflow_total{${inst}}[$__rate_interval]))`, legendFormat: 'service overflow' },
      ], 'cps'),
      ts('Tracked connections', { h: 8, w: 12, x: 0, y: 28 }, [{ expr: `sum by (instance) (sockeye_open_connections{${inst}})`, legendFormat: '{{instance}}' }], 'short'),
      ts('Stream gaps and framing losses', { h: 8, w: 12, x: 12, y: 28 }, [
        { expr: `sum(rate(sockeye_engine{${inst}, counter="engine_gap_events"}[$__rate_interval]))`, legendFormat: 'gaps (lost capture events)' },
        { expr: `sum(rate(sockeye_engine{${inst}, counter="http1_framing_losses"}[$__rate_interval]))`, legendFormat: 'HTTP/1.1 framing losses' },
      ], 'cps', 'A gap is a stretch of a stream the agent never saw; framing losses are HTTP/1.1 messages it could not delimit.'),
    ]);
}

const out = { 'sockeye-red.json': red(), 'sockeye-service-graph.json': graph(), 'sockeye-self-telemetry.json': selfTelemetry() };
const check = process.argv.includes('--check');
let stale = 0;
for (const [file, d] of Object.entries(out)) {
  const url = new URL(file, import.meta.url);
  const text = `${JSON.stringify(d, null, 2)}\n`;
  if (!check) { writeFileSync(url, text); continue; }
  let have = '';
  try { have = readFileSync(url, 'utf8'); } catch { /* missing */ }
  if (have !== text) { console.error(`${file} is stale: run node deploy/dashboards/build-dashboards.mjs`); stale++; }
}
process.exit(stale ? 1 : 0);
