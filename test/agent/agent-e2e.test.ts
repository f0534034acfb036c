// `sockeye agent` on the real kernel: real servers and clients on loopback (Node http, curl,
// @grpc/grpc-js, dig against a DNS server in this test), spans and metrics checked as a user
// would check them at a real OTLP/gRPC receiver in this test (official OTLP protobuf messages).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer, request, Agent, type Server } from 'node:http';
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { OtlpTestReceiver, type FlatSpan } from '../signals/helpers/otlp-test-receiver.js';
import { AgentChild, freePort, kernelAgentUnavailable } from './helpers/agent-child.js';
import { DURATION_BUCKETS_S } from '../../common/semconv/semconv.js';

const run = promisify(execFile);
const skip = kernelAgentUnavailable();
const SERVICE = basename(fileURLToPath(import.meta.url)).replace(/\.js$/, ''); // how the agent names this process
const DELAY_MS = 30;
const SERVER = 2;
const CLIENT = 3;
const ERROR = 2;

let rx: OtlpTestReceiver;
let agent: AgentChild;
let httpServer: Server;
let httpPort = 0;

before(async () => {
  if (skip) return;
  rx = await OtlpTestReceiver.start();
  agent = await AgentChild.exportingTo(rx.grpcEndpoint, [
    'engine:',
    '  request_timeout_ms: 1500',
    'signals:',
    '  link_wait_ms: 500',
    'live_view: off',
  ]);
  httpServer = createServer((req, res) => {
    afterAtLeast(DELAY_MS, () => {
      if (req.url?.startsWith('/missing')) res.writeHead(404).end('no');
      else if (req.url?.startsWith('/boom')) res.writeHead(500).end('bad');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
  });
  httpPort = await freePort();
  await new Promise<void>((r) => httpServer.listen(httpPort, '127.0.0.1', r));
});

after(async () => {
  if (skip) return;
  httpServer?.close();
  await agent?.stop();
  await rx?.close();
});

/** Runs `fn` once at least `ms` of real time has passed. A bare setTimeout can fire up to ~1 ms
 *  early against the real clock (libuv's loop time is cached and millisecond-granular), and the
 *  span-duration check below compares against kernel timestamps, so re-arm for any remainder. */
function afterAtLeast(ms: number, fn: () => void): void {
  const due = process.hrtime.bigint() + BigInt(ms * 1e6);
  const tick = () => {
    const left = due - process.hrtime.bigint();
    if (left <= 0n) fn();
    else setTimeout(tick, Math.max(1, Math.ceil(Number(left) / 1e6)));
  };
  setTimeout(tick, ms);
}

/** Waits until `pred` holds on the received spans, then a little longer to catch extras. */
async function spansWhen(filter: (s: FlatSpan) => boolean, count: number): Promise<FlatSpan[]> {
  await rx.waitFor(() => rx.spans().filter(filter).length >= count, 15_000).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 700));
  return rx.spans().filter(filter);
}

function nodeGet(path: string, agentKeepAlive: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: httpPort, path, agent: agentKeepAlive }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    }).on('error', reject).end();
  });
}

test('startup log names the attached programs and where data goes', { skip }, () => {
  assert.match(agent.stderr, /attached (\d+) of \1 capture programs: .*\benter_read\b.*\bexit_writev\b/);
  assert.match(agent.stderr, /serving \/metrics, \/healthz, \/readyz on http:\/\/127\.0\.0\.1:\d+/);
  assert.match(agent.stderr, new RegExp(`exporting OTLP over grpc to ${rx.grpcEndpoint.replace(/[.]/g, '\\.')}`));
});

test('HTTP/1.1: Node client and curl against a Node server — spans per side, names, status, timing, linking, traceparent, redaction', { skip }, async () => {
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 1 });
  const codes = [];
  for (const p of ['/items/1', '/items/2', '/missing', '/boom']) codes.push(await nodeGet(p, keepAlive));
  keepAlive.destroy();
  assert.deepEqual(codes, [200, 200, 404, 500]);
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const parentId = '00f067aa0ba902b7';
  await run('curl', ['-s', '-o', '/dev/null', '-H', 'Authorization: Bearer abc123secret', '-H', 'Cookie: sid=cookieval',
    `http://user:pw123@127.0.0.1:${httpPort}/items/3?token=s3cr3t&x=1`]);
  await run('curl', ['-s', '-o', '/dev/null', '-H', `traceparent: 00-${traceId}-${parentId}-01`, `http://127.0.0.1:${httpPort}/items/4`]);

  const mine = (s: FlatSpan) => s.attributes['server.port'] === httpPort;
  const spans = await spansWhen(mine, 12);
  const servers = spans.filter((s) => s.kind === SERVER);
  const clients = spans.filter((s) => s.kind === CLIENT);
  assert.equal(servers.length, 6, `server spans: ${servers.map((s) => s.name)}`);
  assert.equal(clients.length, 6, `client spans: ${clients.map((s) => s.name)}`);
  assert.deepEqual(servers.map((s) => s.name).sort(), ['GET /boom', 'GET /items/{id}', 'GET /items/{id}', 'GET /items/{id}', 'GET /items/{id}', 'GET /missing']);
  assert.ok(clients.every((s) => s.name === 'GET'));
  // No pressure: nothing sampled, and every span says so (adjusted count 1).
  for (const s of spans) assert.equal(s.traceState, 'ot=th:0', `${s.name} tracestate`);
  for (const s of servers) {
    assert.equal(s.resource['service.name'], SERVICE);
    assert.equal(s.resource['process.pid'], process.pid);
    assert.equal(s.attributes['http.request.method'], 'GET');
    assert.equal(s.attributes['url.scheme'], 'http');
    assert.equal(s.attributes['network.protocol.version'], '1.1');
    assert.equal(s.attributes['client.address'], '127.0.0.1');
    assert.ok(s.endNs - s.startNs >= BigInt(DELAY_MS * 1e6), `${s.name} lasted ${s.endNs - s.startNs} ns`);
    const ageMs = Date.now() - Number(s.startNs / 1_000_000n);
    assert.ok(ageMs >= 0 && ageMs < 120_000, `start time is wall clock (age ${ageMs} ms)`);
  }
  const byStatus = (list: FlatSpan[], code: number) => list.filter((s) => s.attributes['http.response.status_code'] === code);
  assert.equal(byStatus(servers, 500)[0]!.statusCode, ERROR);
  assert.equal(byStatus(servers, 500)[0]!.attributes['error.type'], '500');
  assert.notEqual(byStatus(servers, 404)[0]!.statusCode, ERROR, '404 is not an error on the server');
  assert.equal(byStatus(clients, 404)[0]!.statusCode, ERROR, '404 is an error on the client');
  assert.equal(byStatus(clients, 200).length, 4);

  // Same-node linking without traceparent: each Node-client span is the parent of its server span.
  const nodeClients = clients.filter((s) => s.resource['process.pid'] === process.pid);
  assert.equal(nodeClients.length, 4);
  for (const c of nodeClients) {
    const srv = servers.find((s) => s.parentSpanId === c.spanId);
    assert.ok(srv, `no server span under client span ${c.spanId}`);
    assert.equal(srv.traceId, c.traceId);
    assert.equal(srv.attributes['http.response.status_code'], c.attributes['http.response.status_code']);
  }
  // traceparent: server joins the carried trace; the curl client span takes the carried ids.
  const carriedServer = servers.find((s) => s.traceId === traceId)!;
  assert.ok(carriedServer, 'server span did not join the carried trace');
  assert.equal(carriedServer.parentSpanId, parentId);
  const carriedClient = clients.find((s) => s.traceId === traceId)!;
  assert.equal(carriedClient.spanId, parentId);
  assert.equal(carriedClient.resource['process.executable.name'], 'curl');
  assert.equal(carriedClient.resource['service.name'], 'curl');
  // Redaction: no credential, cookie or secret query value leaves the agent.
  const leaked = JSON.stringify(rx.traceRequests, (_k, v) => (typeof v === 'bigint' ? String(v) : v));
  for (const secret of ['abc123secret', 'cookieval', 's3cr3t', 'pw123', Buffer.from('user:pw123').toString('base64')]) {
    assert.ok(!leaked.includes(secret), `exported data contains ${secret}`);
  }
  const curlSecret = clients.find((s) => String(s.attributes['url.full']).includes('/items/3'))!;
  assert.equal(curlSecret.attributes['url.full'], `http://127.0.0.1:${httpPort}/items/3?token=REDACTED&x=1`);
  assert.equal(servers.find((s) => s.attributes['url.path'] === '/items/3')!.attributes['url.query'], 'token=REDACTED&x=1');

  // Metrics: histogram counts equal request counts, buckets are the semconv ones.
  await rx.waitFor(() => rx.points().filter((p) => p.metric === 'http.server.request.duration' && p.service === SERVICE)
    .reduce((a, p) => a + p.count, 0) >= 6, 10_000).catch(() => undefined);
  const points = rx.points().filter((p) => p.metric === 'http.server.request.duration' && p.service === SERVICE
    && ['/items/{id}', '/missing', '/boom'].includes(String(p.attributes['http.route'])));
  assert.equal(points.reduce((a, p) => a + p.count, 0), 6);
  for (const p of points) {
    assert.deepEqual(p.bounds, DURATION_BUCKETS_S);
    assert.equal(p.unit, 's');
    assert.equal(p.bucketCounts[0], 0, `nothing under 5 ms with a ${DELAY_MS} ms delay`);
  }
  assert.equal(points.find((p) => p.attributes['http.route'] === '/items/{id}')!.count, 4);
  const clientPoints = rx.points().filter((p) => p.metric === 'http.client.request.duration' && p.attributes['server.port'] === httpPort);
  assert.equal(clientPoints.reduce((a, p) => a + p.count, 0), 6);
});

test('gRPC with @grpc/grpc-js: unary OK, an error status, concurrent calls on one connection', { skip }, async () => {
  const raw = { requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b };
  const def = { Say: { path: '/demo.Echo/Say', requestStream: false, responseStream: false, ...raw } };
  const server = new grpc.Server();
  server.addService(def, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      if (call.request.toString() === 'missing') cb({ code: grpc.status.NOT_FOUND, details: 'no such thing' });
      else setTimeout(() => cb(null, call.request), 10);
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  const say = (text: string, md = new grpc.Metadata()) => new Promise<grpc.StatusObject | Buffer>((resolve) =>
    client.makeUnaryRequest('/demo.Echo/Say', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(text), md, (err, res) => resolve(err ? (err as grpc.ServiceError) : res!)));
  const traceId = '0af7651916cd43dd8448eb211c80319c';
  const parentId = 'b7ad6b7169203331';
  try {
    assert.equal(String(await say('hello')), 'hello');
    assert.equal(((await say('missing')) as grpc.ServiceError).code, grpc.status.NOT_FOUND);
    const all = await Promise.all([1, 2, 3, 4, 5].map((i) => say(`c${i}`)));
    assert.deepEqual(all.map(String), ['c1', 'c2', 'c3', 'c4', 'c5']);
    const carried = new grpc.Metadata();
    carried.set('traceparent', `00-${traceId}-${parentId}-01`);
    assert.equal(String(await say('traced', carried)), 'traced');
    const mine = (s: FlatSpan) => s.attributes['rpc.method'] === 'demo.Echo/Say' && (s.attributes['server.port'] === port);
    const spans = await spansWhen(mine, 16);
    const servers = spans.filter((s) => s.kind === SERVER);
    const clients = spans.filter((s) => s.kind === CLIENT);
    assert.equal(servers.length, 8);
    assert.equal(clients.length, 8);
    for (const s of spans) {
      assert.equal(s.name, 'demo.Echo/Say');
      assert.equal(s.attributes['rpc.system.name'], 'grpc');
    }
    const codes = (list: FlatSpan[]) => list.map((s) => s.attributes['rpc.status_code']).sort();
    assert.deepEqual(codes(servers), ['NOT_FOUND', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
    assert.deepEqual(codes(clients), ['NOT_FOUND', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK', 'OK']);
    // traceparent in gRPC metadata: the server span joins the carried trace under the carried parent.
    const joined = servers.find((s) => s.traceId === traceId);
    assert.ok(joined, 'server span did not join the trace carried in gRPC metadata');
    assert.equal(joined.parentSpanId, parentId);
    assert.notEqual(servers.find((s) => s.attributes['rpc.status_code'] === 'NOT_FOUND')!.statusCode, ERROR);
    const clientNotFound = clients.find((s) => s.attributes['rpc.status_code'] === 'NOT_FOUND')!;
    assert.equal(clientNotFound.statusCode, ERROR);
    assert.equal(clientNotFound.attributes['error.type'], 'NOT_FOUND');
    for (const c of clients) assert.ok(servers.some((s) => s.parentSpanId === c.spanId && s.traceId === c.traceId), 'server span linked to its client span by stream');
    // RED: one rpc.{server,client}.call.duration observation per call, in seconds with the semconv buckets.
    const rpcCount = (metric: string) => rx.points().filter((p) => p.metric === metric && p.attributes['rpc.method'] === 'demo.Echo/Say')
      .reduce((a, p) => a + p.count, 0);
    await rx.waitFor(() => rpcCount('rpc.server.call.duration') >= 8 && rpcCount('rpc.client.call.duration') >= 8, 10_000).catch(() => undefined);
    assert.equal(rpcCount('rpc.server.call.duration'), 8);
    assert.equal(rpcCount('rpc.client.call.duration'), 8);
    const rpcPoints = rx.points().filter((p) => p.metric === 'rpc.server.call.duration' && p.attributes['rpc.method'] === 'demo.Echo/Say');
    for (const p of rpcPoints) { assert.deepEqual(p.bounds, DURATION_BUCKETS_S); assert.equal(p.unit, 's'); }
    assert.deepEqual(rpcPoints.map((p) => p.attributes['rpc.status_code']).sort(), ['NOT_FOUND', 'OK']);
  } finally {
    client.close();
    server.forceShutdown();
  }
});

test('DNS with dig against a local DNS server: NOERROR, NXDOMAIN, and an unanswered query ends as a timeout', { skip }, async () => {
  const dnsPacket = createRequire(import.meta.url)('dns-packet') as {
    decode(b: Buffer): { id: number; questions: Array<{ name: string; type: string }> }; encode(p: object): Buffer;
  };
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions[0]!.name;
    if (name === 'silent.sockeye.test') return; // never answered
    const ok = name === 'ok.sockeye.test';
    sock.send(dnsPacket.encode({ id: q.id, type: 'response', flags: 0x400 | (ok ? 0 : 3), questions: q.questions,
      answers: ok ? [{ type: 'A', name, ttl: 60, data: '198.18.0.7' }] : [] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const port = sock.address().port;
  try {
    const dig = (name: string) => run('dig', [`@127.0.0.1`, '-p', String(port), name, 'A', '+tries=1', '+time=1', '+short']).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
    assert.equal((await dig('ok.sockeye.test')).stdout.trim(), '198.18.0.7');
    await dig('nx.sockeye.test');
    await dig('silent.sockeye.test');
    const mine = (s: FlatSpan) => s.attributes['server.port'] === port;
    const spans = await spansWhen(mine, 3);
    assert.equal(spans.length, 3, JSON.stringify(spans.map((s) => [s.name, s.attributes['dns.question.name']])));
    const by = (n: string) => spans.find((s) => s.attributes['dns.question.name'] === n)!;
    for (const s of spans) {
      assert.equal(s.kind, CLIENT);
      assert.equal(s.name, 'DNS A');
      assert.equal(s.attributes['dns.question.type'], 'A');
      // dig exits within milliseconds, often before its events reach userspace, and does its I/O
      // from libisc threads (isc-net-0000): named from the executable the kernel recorded at exec.
      assert.notEqual(s.resource['process.pid'], process.pid);
      assert.equal(s.resource['service.name'], 'dig');
      assert.equal(s.resource['process.executable.name'], 'dig');
      assert.equal(s.resource['process.executable.path'], '/usr/bin/dig');
    }
    assert.equal(by('ok.sockeye.test').attributes['dns.response_code'], 'NOERROR');
    assert.deepEqual(by('ok.sockeye.test').attributes['dns.answers'], ['198.18.0.7']);
    assert.notEqual(by('ok.sockeye.test').statusCode, ERROR);
    assert.equal(by('nx.sockeye.test').statusCode, ERROR);
    assert.equal(by('nx.sockeye.test').attributes['error.type'], 'NXDOMAIN');
    assert.equal(by('silent.sockeye.test').statusCode, ERROR);
    assert.equal(by('silent.sockeye.test').attributes['error.type'], 'timeout');
    await rx.waitFor(() => rx.points().some((p) => p.metric === 'dns.lookup.duration' && p.attributes['dns.question.name'] === 'silent.sockeye.test'), 5000);
  } finally {
    sock.close();
  }
});

test("the agent's own export traffic is never traced, on either end", { skip }, async () => {
  assert.ok(rx.traceRequests.length > 0 && rx.metricRequests.length > 0, 'the agent has been exporting');
  const rxPort = Number(new URL(rx.grpcEndpoint).port);
  const loops = rx.spans().filter((s) => s.attributes['server.port'] === rxPort || s.attributes['network.peer.port'] === rxPort);
  assert.deepEqual(loops.map((s) => s.name), []);
  assert.ok(!rx.spans().some((s) => s.resource['service.name'] === 'sockeye-agent-under-test'), 'no span from the agent process');
  const m = await agent.metrics();
  assert.match(m, /^sockeye_transactions_skipped_total\{reason="agent_own_traffic"\} [1-9]/m, 'the receiving end of our export was seen and dropped');
  assert.match(m, /^sockeye_capture\{counter="lostEvents"\} 0$/m);
});

test('SIGTERM flushes, detaches and exits 0', { skip }, async () => {
  const code = await agent.stop();
  assert.equal(code, 0);
  assert.match(agent.stderr, /SIGTERM: flushing and detaching/);
  assert.match(agent.stderr, /stopped/);
});
