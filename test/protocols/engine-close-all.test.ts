// The agent's stop: requests still open end at the stop time, marked and counted — not at a
// placeholder time that would give their spans durations of days and a +Inf histogram bucket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { ParserRegistry } from '../../agent/protocols/engine/parser-registry.js';
import { createHttp1Parser } from '../../agent/protocols/http1/http1-connection-parser.js';
import { EventScript } from './helpers/engine-event-script.js';

test('closeAll ends every open connection at the given time; open requests become evicted transactions', () => {
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine({}, (tx) => txs.push(tx), new ParserRegistry().register('http1', createHttp1Parser));
  const a = new EventScript(1);
  const b = new EventScript(2, 'server');
  engine.push(a.data('egress', 'GET /open HTTP/1.1\r\n\r\n').events);
  engine.push(b.data('ingress', 'GET /also-open HTTP/1.1\r\n\r\n').events);
  const stopNs = Math.max(a.tsNs, b.tsNs) + 5e6;
  engine.closeAll(stopNs);
  assert.equal(engine.openConnections, 0);
  assert.deepEqual(txs.map((t) => t.http!.request.path).sort(), ['/also-open', '/open']);
  for (const t of txs) {
    assert.equal(t.endNs, stopNs, 'ends when the agent stopped');
    assert.ok(t.endNs - t.startNs < 1e9);
    assert.ok(t.anomalies.includes('evicted'));
  }
  assert.equal(engine.counters().engine_closed_at_stop, 2);
});
