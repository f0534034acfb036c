import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { ConfigError, FIELDS, loadAgentConfig } from '../../agent/config/agent-config.js';
import { FLAGS, parseAgentArgs } from '../../cli/agent-command.js';
import { exportTargetText } from '../../agent/agent.js';
import { resolveCaptureOptions } from '../../agent/capture/kernel-capture.js';

const dir = mkdtempSync('/tmp/sockeye-agent-config-');
const file = (name: string, text: string) => { writeFileSync(`${dir}/${name}`, text); return `${dir}/${name}`; };
test.after(() => rmSync(dir, { recursive: true }));

test('defaults: loopback /metrics on 9464, gRPC export, semconv-safe caps', () => {
  const c = loadAgentConfig({ env: {} });
  assert.equal(c.listen, '127.0.0.1:9464');
  assert.equal(c.export.enabled, true);
  assert.equal(c.export.protocol, 'grpc');
  assert.equal(c.export.endpoint, undefined);
  assert.equal(c.export.metricIntervalMs, 60_000);
  assert.equal(c.capture.excludeSelf, true);
});

test('precedence: defaults < OTEL_* environment < file < flags', () => {
  const env = { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_METRIC_EXPORT_INTERVAL: '5000', OTEL_EXPORTER_OTLP_TIMEOUT: '3000' };
  const fromEnv = loadAgentConfig({ env });
  assert.equal(fromEnv.export.protocol, 'http/protobuf');
  assert.equal(fromEnv.export.metricIntervalMs, 5000);
  assert.equal(fromEnv.export.timeoutMs, 3000);
  const f = file('a.yaml', 'export:\n  protocol: grpc\n  endpoint: http://127.0.0.1:14317\nsignals:\n  max_routes_per_service: 50\ncapture:\n  exclude_pids: [1, 2]\n');
  const fromFile = loadAgentConfig({ env, file: f });
  assert.equal(fromFile.export.protocol, 'grpc');
  assert.equal(fromFile.export.endpoint, 'http://127.0.0.1:14317');
  assert.equal(fromFile.signals.maxRoutesPerService, 50);
  assert.deepEqual(fromFile.capture.excludePids, [1, 2]);
  const fromFlags = loadAgentConfig({ env, file: f, overrides: { 'export.protocol': 'http/protobuf', listen: '127.0.0.1:0' } });
  assert.equal(fromFlags.export.protocol, 'http/protobuf');
  assert.equal(fromFlags.listen, '127.0.0.1:0');
  assert.equal(loadAgentConfig({ env: { OTEL_SDK_DISABLED: 'true' } }).export.enabled, false);
});

test('validation names the bad key and why', () => {
  const cases: Array<[string, RegExp]> = [
    ['export:\n  endpint: http://x\n', /'export\.endpint': unknown key \(known here: .*endpoint/],
    ['export:\n  protocol: carrier-pigeon\n', /'export\.protocol': must be grpc or http\/protobuf/],
    ['export:\n  span_queue_size: -3\n', /'export\.span_queue_size': must be at least 1, got -3/],
    ['listen: 9464\n', /'listen': must be host:port/],
    ['capture:\n  include_pids: [12, abc]\n', /'capture\.include_pids': item 1 must be a positive integer pid/],
    ['export: [1]\n', /'export': must be a mapping/],
    ['export:\n  span_batch_size: 100\n  span_queue_size: 10\n', /'export\.span_batch_size': must not exceed export\.span_queue_size/],
    ['a: [\n', /'\(yaml\)'/],
  ];
  for (const [yaml, re] of cases) {
    assert.throws(() => loadAgentConfig({ env: {}, file: file('bad.yaml', yaml) }), (e: unknown) => e instanceof ConfigError && re.test(e.message), yaml);
  }
  assert.throws(() => loadAgentConfig({ env: { OTEL_METRIC_EXPORT_INTERVAL: 'soon' } }), /environment OTEL_METRIC_EXPORT_INTERVAL: 'export\.metric_interval_ms': must be an integer/);
  assert.throws(() => loadAgentConfig({ env: {}, file: `${dir}/missing.yaml` }), /cannot read .*missing\.yaml: ENOENT/);
});

test('capture limits: the config and KernelCapture.open take and refuse the same values, the config naming its key', () => {
  const cases: Array<[key: string, option: 'payloadCap' | 'ringBufferBytes' | 'includePids', value: unknown, ok: boolean]> = [
    ['payload_cap', 'payloadCap', 1, true], ['payload_cap', 'payloadCap', 16384, true],
    ['payload_cap', 'payloadCap', 0, false], ['payload_cap', 'payloadCap', 16385, false], ['payload_cap', 'payloadCap', 2.5, false],
    ['ring_buffer_bytes', 'ringBufferBytes', 4096, true], ['ring_buffer_bytes', 'ringBufferBytes', 1 << 30, true],
    ['ring_buffer_bytes', 'ringBufferBytes', 5000, false], ['ring_buffer_bytes', 'ringBufferBytes', 2048, false],
    ['ring_buffer_bytes', 'ringBufferBytes', 2 ** 31, false],
    ['include_pids', 'includePids', [1], true], ['include_pids', 'includePids', [2 ** 30], false],
  ];
  for (const [key, option, value, ok] of cases) {
    const what = `${key}: ${JSON.stringify(value)}`;
    const load = () => loadAgentConfig({ env: {}, file: file('cap.yaml', `capture:\n  ${what}\n`) });
    const open = () => resolveCaptureOptions({ [option]: value });
    if (ok) {
      assert.doesNotThrow(load, what);
      assert.doesNotThrow(open, what);
    } else {
      assert.throws(load, (e: unknown) => e instanceof ConfigError && e.path === `capture.${key}`, what);
      assert.throws(open, new RegExp(`KernelCaptureOptions\\.${option}`), what);
    }
  }
  // From a flag or the environment the value is a string; the same limits apply.
  assert.equal(loadAgentConfig({ env: {}, overrides: { 'capture.payload_cap': '2048' } }).capture.payloadCap, 2048);
  assert.throws(() => loadAgentConfig({ env: {}, overrides: { 'capture.ring_buffer_bytes': '5000' } }),
    /flags: 'capture\.ring_buffer_bytes': must be a power of two, got 5000/);
});

test('the CLI: --help documents every option; a bad config exits 2 with the key named', () => {
  const bin = new URL('../../../bin/sockeye.js', import.meta.url).pathname;
  const help = spawnSync(process.execPath, [bin, 'agent', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  // Every config key, with its default, and every flag — and every flag in the help is one the parser takes.
  for (const f of FIELDS) assert.match(help.stdout, new RegExp(`^  ${f.key.replace(/\./g, '\\.')} .*\\[default: `, 'm'), `--help lacks ${f.key}`);
  for (const [flag] of FLAGS) {
    assert.ok(help.stdout.includes(flag), `--help lacks ${flag}`);
    for (const alt of flag.split(' / ')) {
      const [name, value] = alt.split(' ');
      assert.doesNotThrow(() => parseAgentArgs(value ? [name!, 'x'] : [name!]), `${name} is in --help but not accepted`);
    }
  }
  const bad = spawnSync(process.execPath, [bin, 'agent', '--config', file('c.yaml', 'signals:\n  link_wait_ms: soon\n')], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /'signals\.link_wait_ms': must be an integer, got "soon"/);
  const flag = spawnSync(process.execPath, [bin, 'agent', '--frobnicate'], { encoding: 'utf8' });
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /'--frobnicate': unknown flag/);
});

test('the start-up line names where data really goes: config, then OTEL_* variables, then the default', () => {
  const cfg = (yaml: string) => loadAgentConfig({ env: {}, file: file('t.yaml', yaml || '{}') });
  assert.equal(exportTargetText(cfg('export:\n  endpoint: http://collector:4317\n'), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4317' }), 'http://collector:4317');
  assert.equal(exportTargetText(cfg(''), {}), 'http://localhost:4317 (the default)');
  assert.equal(exportTargetText(cfg('export:\n  protocol: http/protobuf\n'), {}), 'traces http://localhost:4318/v1/traces (the default), metrics http://localhost:4318/v1/metrics (the default)');
  assert.equal(exportTargetText(cfg(''), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4317' }), 'http://otel:4317 (OTEL_EXPORTER_OTLP_ENDPOINT)');
  assert.equal(exportTargetText(cfg(''), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel:4317', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://tempo:4317' }),
    'traces http://tempo:4317 (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), metrics http://otel:4317 (OTEL_EXPORTER_OTLP_ENDPOINT)');
});
