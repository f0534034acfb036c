// Real kernel: ring-buffer loss must never show up as the application's errors. A server that
// answers 200 to every request is traced through a tiny ring with a stalled consumer, so events are
// lost mid-connection; the captured events then go through the protocol engine and the signal
// pipeline as in the agent. Requests whose response bytes were lost have no known outcome: they
// are counted in RED without an error or a status code, counted on
// sockeye_transactions_incomplete_total, and their spans carry sockeye.capture.incomplete instead
// of error.type / an error status.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SpanStatusCode } from '@opentelemetry/api';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import type { TxSpan } from '../../agent/signals/tx-span.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { peerPath, Recorder, startPeer, startServer, stopPeer, type Peer } from './helpers/capture-helpers.js';

const peers: Peer[] = [];
const recorders: Recorder[] = [];
after(() => { peers.forEach(stopPeer); recorders.forEach((r) => r.close()); });

const REQUESTS = 3000;

test('induced ring loss on a server answering only 200: no error in spans or RED, loss counted apart', async () => {
  const http = await startServer('http-server', ['127.0.0.1']);
  peers.push(http);
  const rec = Recorder.open({ ringBufferBytes: 16384, flushIntervalMs: 0, payloadCap: 2048, includePids: [http.pid] });
  recorders.push(rec);
  const client = startPeer(peerPath('http-client'), [`http://127.0.0.1:${http.port}/size/3000`, String(REQUESTS)]);
  peers.push(client);
  assert.ok(await rec.until(() => rec.data(http.pid).length > 0), 'traffic started');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400); // bounded stall of the consumer
  await client.waitLine('done', 60_000);
  await rec.until(() => rec.of(http.pid).some((e) => e.kind === 'close'), 5000);
  assert.ok(rec.capture.counters().lostEvents > 0, 'the kernel really lost events');
  rec.close();

  const telemetry = new TelemetryRegistry();
  const spans: TxSpan[] = [];
  const txs: Transaction[] = [];
  const pipeline = new SignalPipeline({ telemetry, linkWaitMs: 0, onSpan: (s) => spans.push(s) });
  const engine = new ProtocolEngine(undefined, (tx) => { txs.push(tx); pipeline.onTransaction(tx); });
  engine.push(rec.of(http.pid));
  engine.closeAll(Number.MAX_SAFE_INTEGER);
  await pipeline.flush();

  const server = txs.filter((t) => t.role === 'server');
  const gapEnded = server.filter((t) => t.error === 'gap');
  assert.ok(gapEnded.length > 0, `the loss left requests without an outcome (engine: ${JSON.stringify(engine.counters())})`);
  assert.ok(server.every((t) => t.http?.response === undefined || t.http.response.status === 200), 'the server only ever answered 200');

  const errored = spans.filter((s) => s.attributes['error.type'] !== undefined || s.status.code === SpanStatusCode.ERROR);
  assert.equal(errored.length, 0, `no span is an error; e.g. ${errored.slice(0, 3).map((s) => `${s.name} ${String(s.attributes['error.type'])}`).join(', ')}`);
  const incomplete = spans.filter((s) => s.attributes['sockeye.capture.incomplete'] === true);
  assert.equal(incomplete.length, gapEnded.length, 'every gap-ended request is marked incomplete on its span');
  assert.ok(incomplete.every((s) => s.attributes['http.response.status_code'] === undefined));

  const text = telemetry.render();
  const counted = Number(/sockeye_transactions_incomplete_total\{[^}]*reason="capture_gap"[^}]*\} (\d+)/.exec(text)?.[1]);
  assert.equal(counted, gapEnded.length, 'the incomplete counter counts them');

  const red = await pipeline.metrics.renderPrometheus();
  assert.doesNotMatch(red, /error_type=/, 'no RED series carries an error type');
  // Label values hold braces (routes such as /size/{id}): split lines, not regexes over `{...}`.
  const counts = red.split('\n').filter((l) => l.startsWith('http_server_request_duration_seconds_count{'));
  const sum = (ls: string[]) => ls.reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  assert.equal(sum(counts), server.length, 'every server transaction is still counted in RED');
  assert.equal(sum(counts.filter((l) => !l.includes('http_response_status_code='))), gapEnded.length, 'they are the RED requests without a status code');
  await pipeline.shutdown();
});
