// processor `memory_limiter`: limit_percentage is of the container's memory limit (cgroup v2
// memory.max, cgroup v1 memory.limit_in_bytes, the smallest on the way up the hierarchy) and of the
// host's memory only without one. Cgroup files are temp files; the processor runs in a real
// collector built with the cgroup root moved, and its start-up log names the base it used.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { memoryBase } from '../../../../otel-collector/processors/memory-limiter/memory-base.js';
import { memoryLimits, memoryLimiterFactoryWith } from '../../../../otel-collector/processors/memory-limiter/memory-limiter-processor.js';
import { createDefaultConfig, type AnyFactory } from '../../../../otel-collector/component/factory.js';
import { builtinFactories } from '../../../../otel-collector/components.js';
import { Registry } from '../../../../otel-collector/component/registry.js';
import { parseConfig } from '../../../../otel-collector/service/collector-config.js';
import { Service } from '../../../../otel-collector/service/service.js';
import { createLogger } from '../../../../otel-collector/component/logger.js';
import { captureExporterFactory, receiverPorts } from '../../helpers/collector-harness.js';
import { encodeTraceRequest, hexToBytes, type Traces } from '../../../../otel-collector/pdata/index.js';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
const HOST = 64 * GIB;
const dirs: string[] = [];
after(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** A fake cgroup tree: { 'memory.max': '1073741824', ... } relative to its root, plus /proc/self/cgroup. */
function cgroupTree(files: Record<string, string>, self = '0::/\n'): { root: string; selfCgroup: string } {
  const root = mkdtempSync(join(tmpdir(), 'sockeye-cgroup-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), `${text}\n`);
  }
  const selfCgroup = join(root, 'proc-self-cgroup');
  writeFileSync(selfCgroup, self);
  return { root, selfCgroup };
}

test('cgroup v2: memory.max is the base; "max" means none and the host memory is used', () => {
  const limited = cgroupTree({ 'memory.max': String(GIB) });
  const b = memoryBase(limited, HOST);
  assert.equal(b.bytes, GIB);
  assert.equal(b.file, join(limited.root, 'memory.max'));
  assert.match(b.description, /^cgroup v2 memory limit 1024 MiB \(.*memory\.max\)$/);

  const unlimited = memoryBase(cgroupTree({ 'memory.max': 'max' }), HOST);
  assert.equal(unlimited.bytes, HOST);
  assert.equal(unlimited.file, undefined);
  assert.match(unlimited.description, /^host memory 65536 MiB/);
});

test('cgroup v1: memory/memory.limit_in_bytes is the base; the "unlimited" value means none', () => {
  const v1 = cgroupTree({ 'memory/memory.limit_in_bytes': String(512 * MIB) }, '4:memory:/\n0::/\n');
  const b = memoryBase(v1, HOST);
  assert.equal(b.bytes, 512 * MIB);
  assert.match(b.description, /^cgroup v1 memory limit 512 MiB/);
  const none = memoryBase(cgroupTree({ 'memory/memory.limit_in_bytes': '9223372036854771712' }, '4:memory:/\n'), HOST);
  assert.equal(none.bytes, HOST);
  assert.equal(none.file, undefined);
});

test('missing cgroup files, or a limit above the host memory: the host memory is the base', () => {
  assert.equal(memoryBase(cgroupTree({}), HOST).bytes, HOST);
  assert.equal(memoryBase({ root: '/nonexistent/cgroup', selfCgroup: '/nonexistent/self' }, HOST).bytes, HOST);
  assert.equal(memoryBase(cgroupTree({ 'memory.max': String(128 * GIB) }), HOST).bytes, HOST);
  assert.equal(memoryBase(cgroupTree({ 'memory.max': 'garbage' }), HOST).bytes, HOST);
});

test('without a cgroup namespace: the own cgroup from /proc/self/cgroup and its ancestors count, the smallest wins', () => {
  // Pod-level limit 2 GiB above a container cgroup without its own.
  const v2 = cgroupTree({ 'kubepods/pod1/memory.max': String(2 * GIB), 'kubepods/pod1/c1/memory.max': 'max' }, '0::/kubepods/pod1/c1\n');
  assert.equal(memoryBase(v2, HOST).bytes, 2 * GIB);
  const v1 = cgroupTree({
    'memory/memory.limit_in_bytes': '9223372036854771712',
    'memory/docker/abc/memory.limit_in_bytes': String(768 * MIB),
  }, '11:pids:/docker/abc\n4:memory:/docker/abc\n');
  assert.equal(memoryBase(v1, HOST).bytes, 768 * MIB);
});

test('limits: the default 80% − 20% of a 1 GiB container limit, not of the host', () => {
  const def = createDefaultConfig(memoryLimiterFactoryWith());
  const { hard, soft } = memoryLimits(def, GIB);
  assert.equal(hard, Math.floor(GIB * 0.8));
  assert.equal(soft, hard - Math.floor(GIB * 0.2));
  // limit_mib is absolute: the base does not matter.
  assert.deepEqual(memoryLimits({ ...def, limit_percentage: 0, spike_limit_percentage: 0, limit_mib: 100 }, GIB), { hard: 100 * MIB, soft: 80 * MIB });
});

async function collectorWith(cgroup: { root: string; selfCgroup: string }, lines: string[]): Promise<Service> {
  const factories = builtinFactories.filter((f) => !(f.kind === 'processor' && f.type === 'memory_limiter'));
  const registry = new Registry([...factories, memoryLimiterFactoryWith(cgroup) as AnyFactory, captureExporterFactory as AnyFactory]);
  const svc = new Service(parseConfig(`
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:0" } } } }
processors: { memory_limiter: { check_interval: 100ms } }
exporters: { capture/ml: {} }
service: { pipelines: { traces: { receivers: [otlp], processors: [memory_limiter], exporters: [capture/ml] } } }
`, registry), { logger: createLogger('info', 'collector', (l) => lines.push(l)) });
  await svc.start();
  return svc;
}

test('the processor refuses above 60% of a small container limit and logs the base it used', async () => {
  const t: Traces = { resourceSpans: [{ scopeSpans: [{ spans: [
    { traceId: hexToBytes('0af7651916cd43dd8448eb211c80319c'), spanId: hexToBytes('00f067aa0ba902b7'), name: 'x', kind: 2, startTimeUnixNano: 1, endTimeUnixNano: 2, attributes: [] },
  ] }] }] };
  const post = (svc: Service) => fetch(`http://127.0.0.1:${receiverPorts(svc).http}/v1/traces`, {
    method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: encodeTraceRequest(t),
  });
  // 8 MiB: a Node process's heap alone is far above 60% of it, so data is refused at once.
  const smallLines: string[] = [];
  const small = await collectorWith(cgroupTree({ 'memory.max': String(8 * MIB) }), smallLines);
  try {
    assert.equal((await post(small)).status, 503);
    assert.equal(small.telemetry.total('processor_refused_items', { reason: 'memory_limit' }), 1);
    const log = smallLines.find((l) => l.includes('[memory_limiter]') && l.includes('soft limit 5 MiB'));
    assert.ok(log, smallLines.join('\n'));
    assert.match(log, /hard limit 6 MiB: limit_percentage 80% of the cgroup v2 memory limit 8 MiB \(.*memory\.max\)/);
  } finally { await small.shutdown(); }

  // No container limit: the host's memory is the base, and this small test process is well below 60% of it.
  const hostLines: string[] = [];
  const host = await collectorWith(cgroupTree({ 'memory.max': 'max' }), hostLines);
  try {
    assert.equal((await post(host)).status, 200);
    assert.ok(hostLines.some((l) => l.includes('[memory_limiter]') && /of the host memory \d+ MiB/.test(l)), hostLines.join('\n'));
  } finally { await host.shutdown(); }
});
