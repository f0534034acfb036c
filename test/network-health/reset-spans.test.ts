// Spans of transactions a TCP reset broke, with the real `sockeye agent` on this kernel: a Python
// server that aborts mid-response (SO_LINGER 0) and curl as the client. The client span gets
// error.type=connection_reset and a sockeye.tcp.reset event (received, established); the server
// span the same with direction sent and the kernel's reason. A refused connect carried no request:
// it is a metric (sockeye_tcp_connect_duration_seconds{error_type="connection_refused"}), not a span.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { OtlpTestReceiver, type FlatSpan } from '../signals/helpers/otlp-test-receiver.js';
import { AgentChild, freePort, kernelAgentUnavailable } from '../agent/helpers/agent-child.js';
import { PYTHON } from './tcp-lab.js';

const skip = kernelAgentUnavailable();
let rx: OtlpTestReceiver;
let agent: AgentChild;

before(async () => {
  if (skip) return;
  rx = await OtlpTestReceiver.start();
  agent = await AgentChild.exportingTo(rx.grpcEndpoint, [
    'conntrack:',
    '  enabled: false',
    'live_view: off',
  ]);
});

after(async () => {
  if (skip) return;
  await agent?.stop();
  await rx?.close();
});

// Reads the request, sends headers promising 100000 bytes and 1000 of them, then aborts.
const ABORTING_SERVER = `
import socket, struct, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(8); print('ready', flush=True)
c, _ = s.accept(); c.recv(4096)
c.sendall(b'HTTP/1.1 200 OK\\r\\nContent-Length: 100000\\r\\n\\r\\n' + b'x' * 1000)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()
`;

async function abortingServer(port: number) {
  const p = spawn(PYTHON, ['-u', '-c', ABORTING_SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await once(p.stdout!, 'data');
  return p;
}

const resetEvent = (s: FlatSpan) => s.events.find((e) => e.name === 'sockeye.tcp.reset');

test('a server aborting mid-response: both spans are connection_reset, with which side sent it', { skip }, async () => {
  const port = await freePort();
  const server = await abortingServer(port);
  const curl = spawnSync('curl', ['-s', '-o', '/dev/null', '-m', '5', `http://127.0.0.1:${port}/aborted`]);
  assert.ok(curl.status === 56 || curl.status === 18, `curl failed on the reset (exit ${curl.status})`);
  await once(server, 'exit');
  const mine = () => rx.spans().filter((s) => s.attributes['server.port'] === port);
  const client = () => mine().find((s) => s.kind === 3);
  const srv = () => mine().find((s) => s.kind === 2);
  await rx.waitFor(() => !!client() && !!srv(), 10_000).catch(() => undefined);
  const c = client();
  assert.ok(c, `a client span for :${port}: ${JSON.stringify(mine().map((s) => s.name))}`);
  assert.equal(c.attributes['error.type'], 'connection_reset');
  assert.equal(c.statusCode, 2, 'status error');
  const ce = resetEvent(c);
  assert.ok(ce, `reset event on the client span: ${JSON.stringify(c.events.map((e) => e.name))}`);
  assert.equal(ce.attributes['sockeye.tcp.reset.direction'], 'received');
  assert.equal(ce.attributes['sockeye.tcp.state'], 'established');
  assert.equal(ce.attributes['sockeye.tcp.reset.reason'], undefined, 'a received reset carries no reason of ours');
  assert.ok(ce.timeNs >= c.startNs && ce.timeNs <= c.endNs + 100_000_000n, 'the event is within the span');
  const s = srv();
  assert.ok(s, 'a server span for the Python server');
  assert.equal(s.attributes['error.type'], 'connection_reset');
  const se = resetEvent(s);
  assert.ok(se, `reset event on the server span: ${JSON.stringify(s.events.map((e) => e.name))}`);
  assert.equal(se.attributes['sockeye.tcp.reset.direction'], 'sent');
  assert.equal(se.attributes['sockeye.tcp.state'], 'established', 'the state before close() (docs/network-health.md)');
  assert.match(String(se.attributes['sockeye.tcp.reset.reason']), /^tcp_state$|^\d+$/,
    'SO_LINGER 0 close() disconnects: the kernel gives TCP_STATE (its number without tracefs)');
  // RED metrics say the same as the spans.
  const text = await agent.metrics();
  assert.match(text, new RegExp(`^http_client_request_duration_seconds_count\\{service_name="curl",[^}]*error_type="connection_reset"[^}]*server_port="${port}"[^}]*\\} 1$|^http_client_request_duration_seconds_count\\{service_name="curl",[^}]*server_port="${port}"[^}]*error_type="connection_reset"[^}]*\\} 1$`, 'm'));
  assert.match(text, /^sockeye_spans_connection_reset_total 2$/m);
});

test('a refused connect carried no request: a connect metric, no span', { skip }, async () => {
  const port = await freePort();
  const before = rx.spans().length;
  const curl = spawnSync('curl', ['-s', '-m', '3', `http://127.0.0.1:${port}/`]);
  assert.equal(curl.status, 7, 'curl: connection refused');
  const re = new RegExp(`^sockeye_tcp_connect_duration_seconds_count\\{service_name="curl",server_address="127\\.0\\.0\\.1",server_port="${port}",error_type="connection_refused"\\} 1$`, 'm');
  let text = '';
  for (const end = Date.now() + 5000; Date.now() < end && !re.test(text);) {
    await new Promise((r) => setTimeout(r, 150));
    text = await agent.metrics();
  }
  assert.match(text, re);
  await new Promise((r) => setTimeout(r, 600)); // a span, if one were made, would be exported by now (span_delay_ms 100)
  assert.equal(rx.spans().slice(before).filter((s) => s.attributes['server.port'] === port).length, 0);
});
