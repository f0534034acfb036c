// Configuration as users write it: YAML through the real loader. For every component, the defaults
// and each validation error (the message must name the full key path and say why); for the
// service, unknown types, undefined components, signal mismatches, connector misuse and cycles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../../otel-collector/service/collector-config.js';
import { Service } from '../../../otel-collector/service/service.js';
import { ConfigError, object } from '../../../common/config/config-schema.js';
import { builtinFactories } from '../../../otel-collector/components.js';
import { createDefaultConfig, type ConnectorFactory, type AnyFactory } from '../../../otel-collector/component/factory.js';
import { consumeFn } from '../../../otel-collector/component/consumer.js';
import { silentLogger } from '../../../otel-collector/component/logger.js';
import { testRegistry } from '../helpers/collector-harness.js';

// A traces→traces connector, only to exercise the graph (cycles, chains of pipelines).
const forwardConnector: ConnectorFactory = {
  type: 'forward', kind: 'connector', pairs: [['traces', 'traces']], config: object({}),
  create: (_s, _c, _f, _t, next) => ({ consumeTraces: consumeFn(next, 'traces'), async start() {}, async shutdown() {} }),
};
const registry = testRegistry([forwardConnector as AnyFactory]);
const load = (yaml: string, env: NodeJS.ProcessEnv = {}) => parseConfig(yaml, registry, env);

const PIPE = `
service:
  pipelines:
    traces: { receivers: [otlp], exporters: [debug] }`;

function withComponent(section: string, id: string, body: string, pipeline = PIPE): string {
  const base: Record<string, string> = { receivers: 'otlp:', exporters: 'debug:' };
  const sections = { ...base };
  const indented = body.split('\n').map((l) => `    ${l}`).join('\n');
  sections[section] = `${section === 'receivers' && id !== 'otlp' ? 'otlp:\n  ' : section === 'exporters' && id !== 'debug' ? 'debug:\n  ' : ''}${id}:\n${indented}`;
  return Object.entries(sections).map(([k, v]) => `${k}:\n  ${v}`).join('\n') + pipeline;
}

function rejects(yaml: string, message: RegExp | string, env: NodeJS.ProcessEnv = {}): void {
  assert.throws(() => load(yaml, env), (e: unknown) => {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

test('every builtin factory has defaults that pass its own validation', () => {
  for (const f of builtinFactories) assert.doesNotThrow(() => createDefaultConfig(f), `${f.kind} ${f.type}`);
  const types = builtinFactories.map((f) => `${f.kind}/${f.type}`).sort();
  for (const want of ['receiver/otlp', 'processor/batch', 'processor/memory_limiter', 'connector/servicegraph',
    'exporter/otlp_grpc', 'exporter/otlp_http', 'exporter/prometheus', 'exporter/debug', 'extension/health_check']) {
    assert.ok(types.includes(want), `missing ${want}`);
  }
});

test('defaults as loaded from YAML (empty sections)', () => {
  const c = load(`
receivers: { otlp: }
processors: { batch: , memory_limiter: , memory_limiter/mib: { limit_mib: 100 } }
connectors: { servicegraph: }
exporters: { otlp_grpc: , otlp_http: , prometheus: , debug: }
extensions: { health_check: }
service:
  extensions: [health_check]
  pipelines:
    traces: { receivers: [otlp], processors: [memory_limiter, batch], exporters: [otlp_grpc, otlp_http, debug, servicegraph] }
    metrics: { receivers: [servicegraph], exporters: [prometheus] }
`);
  const cfg = (section: 'receivers' | 'processors' | 'connectors' | 'exporters' | 'extensions', id: string) => c[section].get(id)!.config as Record<string, any>;
  assert.deepEqual(cfg('receivers', 'otlp').protocols.grpc, { endpoint: '127.0.0.1:4317', max_recv_msg_size_mib: 4,
    keepalive: { server_parameters: { max_connection_idle: 10_000, max_connection_age: 0, max_connection_age_grace: 5000, time: 0, timeout: 20_000 } } });
  assert.equal(cfg('receivers', 'otlp').protocols.http.endpoint, '127.0.0.1:4318');
  assert.equal(cfg('receivers', 'otlp').protocols.http.max_request_body_size, 20 * 1024 * 1024);
  assert.deepEqual(cfg('processors', 'batch'), { send_batch_size: 8192, send_batch_max_size: 0, timeout: 200 });
  assert.deepEqual(cfg('processors', 'memory_limiter'), { check_interval: 1000, limit_mib: 0, spike_limit_mib: 0, limit_percentage: 80, spike_limit_percentage: 20 });
  assert.deepEqual(cfg('processors', 'memory_limiter/mib'), { check_interval: 1000, limit_mib: 100, spike_limit_mib: 0, limit_percentage: 0, spike_limit_percentage: 0 });
  assert.equal(cfg('connectors', 'servicegraph').store.ttl, 2000);
  const grpcExp = cfg('exporters', 'otlp_grpc');
  assert.equal(grpcExp.endpoint, '127.0.0.1:4317');
  assert.equal(grpcExp.compression, 'gzip');
  assert.equal(grpcExp.timeout, 5000);
  assert.deepEqual(grpcExp.retry_on_failure, { enabled: true, initial_interval: 5000, max_interval: 30_000, max_elapsed_time: 300_000, multiplier: 1.5, randomization_factor: 0.5 });
  assert.deepEqual(grpcExp.sending_queue, { enabled: true, num_consumers: 10, queue_size: 1000 });
  assert.equal(cfg('exporters', 'otlp_http').endpoint, 'http://127.0.0.1:4318');
  assert.equal(cfg('exporters', 'otlp_http').encoding, 'proto');
  assert.equal(cfg('exporters', 'prometheus').endpoint, '127.0.0.1:8889');
  assert.equal(cfg('exporters', 'prometheus').metric_expiration, 300_000);
  assert.equal(cfg('exporters', 'debug').verbosity, 'basic');
  assert.deepEqual(cfg('extensions', 'health_check'), { endpoint: '127.0.0.1:13133', path: '/' });
  assert.equal(c.service.telemetry.logs.level, 'info');
});

test('batch: each validation error names the key and the reason', () => {
  rejects(withComponent('processors', 'batch/fast', 'send_batch_size: ten'), 'processors.batch/fast.send_batch_size: must be a positive integer, got "ten"');
  rejects(withComponent('processors', 'batch', 'send_batch_size: 0'), 'processors.batch.send_batch_size: must be a positive integer, got 0');
  rejects(withComponent('processors', 'batch', 'send_batch_size: 100\nsend_batch_max_size: 50'), 'processors.batch.send_batch_max_size: must be 0 (no limit) or >= send_batch_size (100), got 50');
  rejects(withComponent('processors', 'batch', 'timeout: fast'), 'processors.batch.timeout: must be a duration like "200ms", "5s" or "1m", got "fast"');
  rejects(withComponent('processors', 'batch', 'sendbatchsize: 10'), 'processors.batch.sendbatchsize: unknown field (known fields: send_batch_size, send_batch_max_size, timeout)');
  rejects(withComponent('processors', 'batch', '[1, 2]').replace('batch:\n    [1, 2]', 'batch: [1, 2]'), 'processors.batch: must be a map, got a list');
});

test('memory_limiter: each validation error', () => {
  rejects(withComponent('processors', 'memory_limiter', 'spike_limit_mib: 10'), 'processors.memory_limiter.spike_limit_mib: needs limit_mib to be set too');
  rejects(withComponent('processors', 'memory_limiter', 'limit_mib: 100\nspike_limit_mib: 100'), 'processors.memory_limiter.spike_limit_mib: must be less than limit_mib (100), got 100');
  rejects(withComponent('processors', 'memory_limiter', 'limit_mib: 100\nlimit_percentage: 50'), 'processors.memory_limiter.limit_percentage: set limit_mib or limit_percentage, not both');
  rejects(withComponent('processors', 'memory_limiter', 'limit_percentage: 120'), 'processors.memory_limiter.limit_percentage: must be an integer >= 0 <= 100, got 120');
  rejects(withComponent('processors', 'memory_limiter', 'limit_percentage: 50\nspike_limit_percentage: 60'), 'processors.memory_limiter.spike_limit_percentage: must be less than limit_percentage (50), got 60');
  rejects(withComponent('processors', 'memory_limiter', 'limit_mib: 10\ncheck_interval: 0'), 'processors.memory_limiter.check_interval: must be at least 1ms, got 0');
});

test('otlp receiver: each validation error', () => {
  rejects(withComponent('receivers', 'otlp/x', 'protocols: {}'), 'receivers.otlp/x.protocols.grpc: at least one protocol (grpc or http) must be enabled');
  rejects(withComponent('receivers', 'otlp/x', 'protocols: { grpc: { endpoint: localhost } }'), 'receivers.otlp/x.protocols.grpc.endpoint: must be an endpoint "host:port" with a port 0-65535, got "localhost"');
  rejects(withComponent('receivers', 'otlp/x', 'protocols: { grpc: { endpoint: "127.0.0.1:70000" } }'), /protocols\.grpc\.endpoint: must be an endpoint "host:port" with a port 0-65535, got "127.0.0.1:70000"/);
  rejects(withComponent('receivers', 'otlp/x', 'protocols: { grpc: { max_recv_msg_size_mib: 0 } }'), 'receivers.otlp/x.protocols.grpc.max_recv_msg_size_mib: must be an integer >= 1 <= 2047, got 0');
  const sp = (v: string) => withComponent('receivers', 'otlp/x', `protocols: { grpc: { keepalive: { server_parameters: { ${v} } } } }`);
  rejects(sp('max_connection_idle: 0'), 'receivers.otlp/x.protocols.grpc.keepalive.server_parameters.max_connection_idle: must be at least 100ms, got 0');
  rejects(sp('max_connection_age: 5ms'), 'receivers.otlp/x.protocols.grpc.keepalive.server_parameters.max_connection_age: must be 0 (off) or at least 100ms');
  rejects(sp('time: 10ms'), 'receivers.otlp/x.protocols.grpc.keepalive.server_parameters.time: must be 0 (off) or at least 1s');
  rejects(sp('max_idle: 1s'), /server_parameters\.max_idle: unknown field \(known fields: max_connection_idle, max_connection_age, max_connection_age_grace, time, timeout\)/);
  rejects(withComponent('receivers', 'otlp/x', 'protocols: { http: { max_request_body_size: lots } }'), 'receivers.otlp/x.protocols.http.max_request_body_size: must be a byte size like 4194304, "4MiB" or "512KB", got "lots"');
  rejects(withComponent('receivers', 'otlp/x', 'protocols: { http: { traces_url_path: v1/traces } }'), 'receivers.otlp/x.protocols.http.traces_url_path: must start with "/", got "v1/traces"');
  rejects(withComponent('receivers', 'otlp/x', 'protocols: { thrift: {} }'), 'receivers.otlp/x.protocols.thrift: unknown field (known fields: grpc, http)');
  const c = load(withComponent('receivers', 'otlp/x', 'protocols: { http: { max_request_body_size: 4MiB } }'));
  assert.equal((c.receivers.get('otlp/x')!.config as any).protocols.http.max_request_body_size, 4 * 1024 * 1024);
  assert.equal((c.receivers.get('otlp/x')!.config as any).protocols.grpc, undefined, 'grpc off when only http is listed');
});

test('exporters: each validation error', () => {
  rejects(withComponent('exporters', 'otlp_grpc', 'compression: zstd'), 'exporters.otlp_grpc.compression: must be one of "gzip", "none", got "zstd"');
  rejects(withComponent('exporters', 'otlp_grpc', 'retry_on_failure: { multiplier: 0.5 }'), 'exporters.otlp_grpc.retry_on_failure.multiplier: must be a number >= 1, got 0.5');
  rejects(withComponent('exporters', 'otlp_grpc', 'retry_on_failure: { initial_interval: 10s, max_interval: 1s }'), 'exporters.otlp_grpc.retry_on_failure.max_interval: must be >= initial_interval (10000ms), got 1000ms');
  rejects(withComponent('exporters', 'otlp_grpc', 'sending_queue: { queue_size: 0 }'), 'exporters.otlp_grpc.sending_queue.queue_size: must be a positive integer, got 0');
  rejects(withComponent('exporters', 'otlp_grpc', 'headers: { x-tenant: 1 }'), 'exporters.otlp_grpc.headers.x-tenant: must be a string, got 1');
  rejects(withComponent('exporters', 'otlp_grpc', 'endpoint: ""'), 'exporters.otlp_grpc.endpoint: must not be empty');
  rejects(withComponent('exporters', 'otlp_http', 'endpoint: "ftp://x"'), 'exporters.otlp_http.endpoint: must be an http:// or https:// URL, got "ftp://x"');
  rejects(withComponent('exporters', 'otlp_http', 'encoding: xml'), 'exporters.otlp_http.encoding: must be one of "proto", "json", got "xml"');
  rejects(withComponent('exporters', 'otlp_http', 'timeout: 5'), 'exporters.otlp_http.timeout: must be a duration like "200ms", "5s" or "1m", got 5');
  rejects(withComponent('exporters', 'prometheus', 'endpoint: "8889"'), /exporters\.prometheus\.endpoint: must be an endpoint "host:port"/);
  rejects(withComponent('exporters', 'prometheus', 'const_labels: [a]'), 'exporters.prometheus.const_labels: must be a map, got a list');
  rejects(withComponent('exporters', 'prometheus', 'metric_expiration: 1ms'), 'exporters.prometheus.metric_expiration: must be at least 1000ms, got "1ms"');
  rejects(withComponent('exporters', 'debug/v', 'verbosity: loud'), 'exporters.debug/v.verbosity: must be one of "basic", "normal", "detailed", got "loud"');
});

test('connector and extension: validation errors', () => {
  rejects(withComponent('connectors', 'servicegraph', 'dimensions: k8s.namespace.name'), /connectors\.servicegraph\.dimensions: must be a list of a string, got "k8s.namespace.name"/);
  rejects(withComponent('connectors', 'servicegraph', 'store: { max_items: -1 }'), 'connectors.servicegraph.store.max_items: must be a positive integer, got -1');
  rejects(withComponent('extensions', 'health_check', 'path: health'), 'extensions.health_check.path: must start with "/", got "health"');
  rejects(withComponent('extensions', 'health_check', 'endpoint: ":x"'), /extensions\.health_check\.endpoint: must be an endpoint/);
});

test('service: unknown types, bad ids, undefined components, signal and connector mismatches', () => {
  rejects('receivers: { otlp: }\nexporter: {}\n' + PIPE, 'exporter: unknown top-level section (known: receivers, processors, exporters, connectors, extensions, service)');
  rejects('receivers: { otlp: }\nprocessors: { batchy: }\nexporters: { debug: }' + PIPE, 'processors.batchy: unknown processor type "batchy" (known processor types: batch, k8s_attributes, memory_limiter, nat)');
  rejects('receivers: { otlp: }\nprocessors: { Batch: }\nexporters: { debug: }' + PIPE, /processors\.Batch: "Batch" is not a valid component id: the type must be lower_snake_case/);
  rejects('receivers: { otlp: }\nprocessors: { "batch/": }\nexporters: { debug: }' + PIPE, /processors\.batch\/: "batch\/" is not a valid component id: the name after "\/" must be non-empty/);
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug/x] } } }',
    'service.pipelines.traces.exporters[0]: "debug/x" is not defined under exporters or connectors');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [otlp], processors: [batch], exporters: [debug] } } }',
    'service.pipelines.traces.processors[0]: "batch" is not defined under processors');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [otlp/2], exporters: [debug] } } }',
    'service.pipelines.traces.receivers[0]: "otlp/2" is not defined under receivers or connectors');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { spans: { receivers: [otlp], exporters: [debug] } } }',
    'service.pipelines.spans: unknown pipeline "spans": a pipeline id is traces, metrics or logs, optionally /name');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [], exporters: [debug] } } }',
    'service.pipelines.traces.receivers: must not be empty');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [otlp] } } }',
    'service.pipelines.traces.exporters: is required (a list of a string)');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug, debug] } } }',
    'service.pipelines.traces.exporters[1]: "debug" is listed twice');
  rejects('receivers: { otlp: }\nexporters: { prometheus: }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [prometheus] } } }',
    'service.pipelines.traces.exporters[0]: exporter "prometheus" does not support traces');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nconnectors: { servicegraph: }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [servicegraph] } } }',
    'service.pipelines.traces.exporters[0]: connector "servicegraph" is used as an exporter but no pipeline receives from it');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nconnectors: { servicegraph: }\nservice: { pipelines: { metrics: { receivers: [otlp], exporters: [servicegraph] }, traces: { receivers: [servicegraph], exporters: [debug] } } }',
    'service.pipelines.metrics.exporters[0]: connector "servicegraph" cannot consume metrics into traces (supports traces→metrics)');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nconnectors: { servicegraph: }\nservice: { pipelines: { traces: { receivers: [servicegraph], exporters: [debug] } } }',
    'service.pipelines.traces.receivers[0]: connector "servicegraph" is used as a receiver but no pipeline exports to it');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { pipelines: {} }', 'service.pipelines: must define at least one pipeline (traces, metrics or logs [/name])');
  rejects('receivers: { otlp: }\nexporters: { debug: }\nservice: { extensions: [health_check], pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }',
    'service.extensions[0]: "health_check" is not defined under extensions');
  rejects('receivers: { otlp: }\nexporters: { debug: }' + PIPE + '\n  telemetry: { logs: { level: verbose } }',
    'service.telemetry.logs.level: must be one of "debug", "info", "warn", "error", got "verbose"');
  rejects('receivers: { otlp: }\nexporters: { debug: }' + PIPE + '\n  pipeline: {}', 'service.pipeline: unknown field (known fields: extensions, pipelines, telemetry)');
});

test('YAML syntax errors, duplicate keys and missing environment variables are reported', () => {
  rejects('receivers: { otlp: \n', /config is not valid YAML/);
  rejects('receivers: { otlp: }\nreceivers: { otlp: }\nexporters: { debug: }' + PIPE, /not valid YAML: .*[Mm]ap keys must be unique/);
  rejects('receivers: { otlp: { protocols: { grpc: { endpoint: "${env:NOPE_HOST}:4317" } } } }\nexporters: { debug: }' + PIPE,
    'receivers.otlp.protocols.grpc.endpoint: environment variable NOPE_HOST is not set (write ${env:NOPE_HOST:-default} to give a default)');
  const c = load('receivers: { otlp: { protocols: { grpc: { endpoint: "${env:H}:${env:P:-4317}" } } } }\nexporters: { debug: }' + PIPE, { H: '127.0.0.2' });
  assert.equal((c.receivers.get('otlp')!.config as any).protocols.grpc.endpoint, '127.0.0.2:4317');
});

test('a connector loop is refused when the service is built', () => {
  const cfg = load(`
receivers: { otlp: }
connectors: { forward/a: , forward/b: }
exporters: { debug: }
service:
  pipelines:
    traces/in: { receivers: [otlp, forward/b], exporters: [forward/a] }
    traces/mid: { receivers: [forward/a], exporters: [forward/b, debug] }
`);
  assert.throws(() => new Service(cfg, { logger: silentLogger }), /service\.pipelines\.traces\/in: connectors form a cycle/);
});

test('the shipped pipeline YAML and every example load', async () => {
  const { readdirSync, readFileSync } = await import('node:fs');
  const root = new URL('../../../../processor-config/', import.meta.url);
  const files = ['collector.yaml', ...readdirSync(new URL('examples/', root)).map((f) => `examples/${f}`)];
  assert.ok(files.length >= 3);
  for (const f of files) {
    assert.doesNotThrow(() => parseConfig(readFileSync(new URL(f, root), 'utf8'), registry, {}), f);
  }
});
