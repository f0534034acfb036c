// HTTP/1.1 end to end from the real kernel: events captured by the real BPF programs (test/kernel's
// Recorder) from a real node:http server, curl, and a raw pipelining socket on loopback, fed to the
// engine — both the client's and the server's view of each connection. Skipped, with the reason,
// when the BPF object has not been built (`make -s all` / `npm test` builds it).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import type { CaptureEvent } from '../../agent/capture/capture-events.js';
import { defaultObjectPath } from '../../agent/capture/kernel-capture.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { Recorder, run, startServer, stopPeer, type Peer } from '../kernel/helpers/capture-helpers.js';

const skip = existsSync(defaultObjectPath) ? false : `BPF object not built (${defaultObjectPath})`;
let rec: Recorder;
let server: Peer & { port: number };

before(async () => {
  if (skip) return;
  rec = Recorder.open({ payloadCap: 1024 });
  server = await startServer('http-server', ['127.0.0.1']);
});
after(() => { stopPeer(server); rec?.close(); });

function engineOver(events: CaptureEvent[]): { txs: Transaction[]; counters: Record<string, number> } {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx));
  engine.push(events);
  return { txs, counters: engine.counters() };
}

/** The server's events for the connection whose client port is `clientPort`. */
const serverSide = (clientPort: number) => rec.of(server.pid).filter((e) => e.tuple.remotePort === clientPort && e.tuple.localPort === server.port);

const view = (txs: Transaction[]) => txs.map((t) => `${t.http!.request.method} ${t.http!.request.target} ${t.http!.response?.status ?? t.error}`);

test('curl keep-alive through the kernel capture: every exchange paired on both sides, bodies past the cap skipped by count', { skip }, async () => {
  const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;
  const curl = await run('curl', ['-s', '-o', '/dev/null', '-H', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    url('/a?x=1'), '-:', url('/size/100000'), '-:', '--data-binary', 'k=v', url('/form'), '-:', '-I', url('/size/5'), '-:', url('/size/0')]);
  assert.equal(curl.code, 0);
  assert.ok(await rec.until(() => rec.of(curl.pid).some((e) => e.kind === 'close')), 'curl closed its connection');
  await rec.until(() => false, 300); // the server's last events
  const client = rec.of(curl.pid).filter((e) => e.tuple.transport === 'tcp' && e.tuple.remotePort === server.port);
  const expected = ['GET /a?x=1 200', 'GET /size/100000 200', 'POST /form 200', 'HEAD /size/5 200', 'GET /size/0 200'];

  const c = engineOver(client);
  assert.deepEqual(view(c.txs), expected, 'client side');
  assert.ok(c.txs.every((t) => t.role === 'client' && t.error === undefined && t.anomalies.length === 0));
  assert.equal(c.txs[0]!.http!.request.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.ok(c.txs[1]!.responseBytes > 100_000, 'the 100 kB body counted though only 1 kB per syscall was captured');
  const clientPort = client[0]!.tuple.localPort;

  const s = engineOver(serverSide(clientPort));
  assert.deepEqual(view(s.txs), expected, 'server side');
  assert.ok(s.txs.every((t) => t.role === 'server' && t.error === undefined));
  assert.deepEqual(s.txs.map((t) => [t.requestBytes, t.responseBytes]), c.txs.map((t) => [t.requestBytes, t.responseBytes]), 'both sides agree on sizes');
  assert.equal(s.counters.http1_parse_errors, undefined);
});

test('a raw client pipelining three requests in one write: paired in order on both sides', { skip }, async () => {
  const script = `const s=require('net').connect(${server.port},'127.0.0.1',()=>s.write('GET /p1 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nGET /size/300 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\nGET /p3 HTTP/1.1\\r\\nHost: a\\r\\nConnection: close\\r\\n\\r\\n'));s.resume();`;
  const client = await run(process.execPath, ['-e', script]);
  assert.equal(client.code, 0);
  assert.ok(await rec.until(() => rec.of(client.pid).some((e) => e.kind === 'close')));
  await rec.until(() => false, 300);
  const events = rec.of(client.pid).filter((e) => e.tuple.transport === 'tcp' && e.tuple.remotePort === server.port);
  // Small bodies: even if the client reads all three responses at once, every head is within the 1 KiB cap.
  const expected = ['GET /p1 200', 'GET /size/300 200', 'GET /p3 200'];
  assert.deepEqual(view(engineOver(events).txs), expected, 'client side');
  assert.deepEqual(view(engineOver(serverSide(events[0]!.tuple.localPort)).txs), expected, 'server side');
});
