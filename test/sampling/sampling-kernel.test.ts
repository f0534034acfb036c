// Sampling on the real kernel: `sockeye agent` with its probability forced to 1/4 (pressure induced
// rather than waited for), a Node server in this process and third-party clients (hey for bounded
// load, curl for traceparent/tracestate), spans and metrics checked at a real OTLP/gRPC receiver.
// RED counts every request; exported spans carry ot=th:c and their adjusted counts add up to the
// requests; both sides of a linked call are kept or dropped together; incoming ot=th is honoured.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, type Server } from 'node:http';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OtlpTestReceiver, type FlatSpan } from '../signals/helpers/otlp-test-receiver.js';
import { AgentChild, freePort, kernelAgentUnavailable } from '../agent/helpers/agent-child.js';
import { adjustedCount, parseTh } from '../../agent/sampling/threshold.js';

const run = promisify(execFile);
const skip = kernelAgentUnavailable();
const SERVICE = basename(fileURLToPath(import.meta.url)).replace(/\.js$/, '');
const SERVER = 2;
const CLIENT = 3;
const REQUESTS = 3000;
const P = 0.25;

let rx: OtlpTestReceiver;
let agent: AgentChild;
let server: Server;
let port = 0;

before(async () => {
  if (skip) return;
  rx = await OtlpTestReceiver.start();
  agent = await AgentChild.exportingTo(rx.grpcEndpoint, [
    'signals:',
    '  link_wait_ms: 500',
    'sampling:',
    `  probability: ${P}`,
    'live_view: off',
  ]);
  server = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
});

after(async () => {
  if (skip) return;
  server?.close();
  await agent?.stop();
  await rx?.close();
});

const onRoute = (route: string) => (s: FlatSpan) => s.attributes['server.port'] === port
  && (s.kind === CLIENT ? String(s.attributes['url.full']).includes(route) : s.attributes['http.route'] === route);

function serverCount(route: string): number {
  return rx.points().filter((p) => p.metric === 'http.server.request.duration' && p.service === SERVICE && p.attributes['http.route'] === route)
    .reduce((a, p) => a + p.count, 0);
}

async function metricValue(name: string, labels: string): Promise<number> {
  const m = new RegExp(`^${name}${labels ? `\\{${labels}\\}` : ''} (\\S+)$`, 'm').exec(await agent.metrics());
  return m ? Number(m[1]) : NaN;
}

test('forced 1/4: RED counts every request, spans carry ot=th:c, adjusted counts add up, linked sides alike', { skip }, async () => {
  const { stdout } = await run('hey', ['-n', String(REQUESTS), '-c', '4', `http://127.0.0.1:${port}/load`], { timeout: 120_000 });
  const answered = Number(/\[200\]\s+(\d+) responses/.exec(stdout)?.[1]);
  assert.equal(answered, REQUESTS, `hey: ${stdout}`);

  // RED: exactly hey's count, sampling or not.
  await rx.waitFor(() => serverCount('/load') >= REQUESTS, 20_000).catch(() => undefined);
  assert.equal(serverCount('/load'), REQUESTS);

  // Spans: wait until the linker and the export queue are drained (no change for a while).
  let last = -1;
  for (let i = 0; i < 40 && rx.spans().filter(onRoute('/load')).length !== last; i++) {
    last = rx.spans().filter(onRoute('/load')).length;
    await new Promise((r) => setTimeout(r, 500));
  }
  const spans = rx.spans().filter(onRoute('/load'));
  const servers = spans.filter((s) => s.kind === SERVER);
  for (const s of spans) assert.equal(s.traceState, 'ot=th:c', `${s.name} tracestate`);
  const estimate = servers.reduce((a, s) => a + adjustedCount(parseTh(/th:([0-9a-f]+)/.exec(s.traceState)![1]!)!), 0);
  const se = Math.sqrt(REQUESTS * (1 - P) / P);
  assert.ok(Math.abs(estimate - REQUESTS) <= 3 * se, `adjusted count sum ${estimate} vs ${REQUESTS} requests (3 SE = ${3 * se})`);
  assert.ok(servers.length > 0 && servers.length < REQUESTS / 2, `kept ${servers.length} of ${REQUESTS}`);

  // Both sides of each linked call share the decision: hey's client span and the server span of
  // one request are in one trace, and a kept trace has both.
  const byTrace = new Map<string, FlatSpan[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  let pairs = 0;
  for (const [id, list] of byTrace) {
    const kinds = list.map((s) => s.kind).sort();
    assert.deepEqual(kinds, [SERVER, CLIENT], `trace ${id}: ${list.map((s) => s.kind)}`);
    pairs++;
  }
  assert.equal(pairs, servers.length);

  // /metrics: the forced probability, its th, and the spans sampled out for it.
  assert.equal(await metricValue('sockeye_sampling_probability', ''), P);
  assert.equal(await metricValue('sockeye_sampling_threshold_info', 'th="c",source="configured"'), 1);
  assert.ok(await metricValue('sockeye_spans_sampled_out_total', 'reason="configured"') >= 2 * (REQUESTS - servers.length));
  assert.equal(await metricValue('sockeye_spans_dropped_total', 'reason="queue_full"') || 0, 0);
});

test('incoming traceparent + ot=th: trace id kept, threshold honoured, raised to ours, never lowered', { skip }, async () => {
  const call = (traceId: string, flags: string, tracestate: string) => run('curl', ['-s', '-o', '/dev/null',
    '-H', `traceparent: 00-${traceId}-00f067aa0ba902b7-${flags}`, '-H', `tracestate: ${tracestate}`, `http://127.0.0.1:${port}/carried`]);
  const id = (r: string) => `4bf92f3577b34da6a3${r}`;
  const kept = [
    { traceId: id('f0000000000001'), flags: '01', state: 'ot=th:8', want: 'ot=th:c' }, // ours (c) is higher: raised
    { traceId: id('f8000000000002'), flags: '01', state: 'ot=th:f,vendor=1', want: 'ot=th:f,vendor=1' }, // theirs is higher: kept
  ];
  const dropped = [
    { traceId: id('90000000000003'), flags: '01', state: 'ot=th:8' }, // kept upstream at 1/2, below our c
    { traceId: id('d0000000000004'), flags: '00', state: 'ot=th:f' }, // not sampled upstream at 1/16
  ];
  const parentBefore = await metricValue('sockeye_spans_sampled_out_total', 'reason="parent"');
  for (const c of [...kept, ...dropped]) await call(c.traceId, c.flags, c.state);
  await rx.waitFor(() => kept.every((c) => rx.spans().filter((s) => s.traceId === c.traceId).length >= 2), 15_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1500));
  for (const c of kept) {
    const list = rx.spans().filter((s) => s.traceId === c.traceId && onRoute('/carried')(s));
    assert.deepEqual(list.map((s) => s.kind).sort(), [SERVER, CLIENT], `${c.traceId}: both sides kept`);
    for (const s of list) assert.equal(s.traceState, c.want, `${c.traceId} kind ${s.kind}`);
  }
  for (const c of dropped) assert.equal(rx.spans().filter((s) => s.traceId === c.traceId).length, 0, `${c.traceId} sampled out`);
  assert.equal(await metricValue('sockeye_spans_sampled_out_total', 'reason="parent"') - parentBefore, 2, 'the th:f trace, both sides');
  // RED still counted all four requests.
  await rx.waitFor(() => serverCount('/carried') >= 4, 10_000).catch(() => undefined);
  assert.equal(serverCount('/carried'), 4);
});
