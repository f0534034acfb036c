// HTTP/1.1 responses owed to requests that ended early (timeout, pending bound) are remembered so
// the late response is skipped, not given to the next request. That memory is bounded: on a
// connection whose server never answers it must not grow per request, and when the bound is hit
// the parser stops pairing (counted) rather than forget an owed response and pair wrongly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../agent/protocols/transaction.js';
import type { ProtocolSwitch } from '../../agent/protocols/protocol-parser.js';
import { resolveEngineOptions } from '../../agent/protocols/engine/engine-options.js';
import { createHttp1Parser } from '../../agent/protocols/http1/http1-connection-parser.js';
import { EventScript, runEngine } from './helpers/engine-event-script.js';
import { connInfo } from './helpers/http2-dns-test-helpers.js';

const ok = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const summary = (txs: Transaction[]) => txs.map((t) => `${t.http!.request.target} ${t.http!.response?.status ?? t.error}`);

test('a server that never answers: owed responses stay within maxPendingRequests, then pairing stops, counted', () => {
  const txs: Transaction[] = [];
  const counters: Record<string, number> = {};
  const sink = {
    emit: (tx: Transaction) => { txs.push(tx); },
    count: (c: string, n = 1) => { counters[c] = (counters[c] ?? 0) + n; },
    switchProtocol: (_sw: ProtocolSwitch) => {},
  };
  const parser = createHttp1Parser(connInfo('client'), sink, resolveEngineOptions({ maxPendingRequests: 8, requestTimeoutNs: 1e9 }));
  const owed = () => (parser as unknown as { owed: boolean[] }).owed.length;
  const s = new EventScript();
  let maxOwed = 0;
  for (let i = 0; i < 2000; i++) {
    s.data('egress', `GET /r${i} HTTP/1.1\r\n\r\n`);
    parser.onData(s.events[s.events.length - 1] as Parameters<typeof parser.onData>[0]);
    s.tsNs += 2e9;
    parser.onTick(s.tsNs);
    maxOwed = Math.max(maxOwed, owed());
  }
  assert.ok(maxOwed <= 8, `owed responses bounded, held ${maxOwed}`);
  assert.equal(counters.http1_owed_overflow, 1);
  assert.equal(counters.http1_unsynced_connections, 1);
  assert.equal(txs.length, 2000, 'every request is still reported once');
  assert.deepEqual(summary(txs.slice(0, 10)), [...Array.from({ length: 9 }, (_, i) => `/r${i} timeout`), '/r9 gap']);
  // The server answers at last: nothing is paired any more (the owed count was given up).
  s.data('ingress', ok);
  parser.onData(s.events[s.events.length - 1] as Parameters<typeof parser.onData>[0]);
  assert.equal(txs.length, 2000);
  assert.equal(counters.http1_unpaired_responses, 1);
});

test('pending bound and owed bound together: the request that overflows both ends pairing, nothing pairs wrongly', () => {
  const s = new EventScript();
  for (let i = 0; i < 6; i++) s.data('egress', `GET /${i} HTTP/1.1\r\n\r\n`);
  for (let i = 0; i < 6; i++) s.data('ingress', ok);
  const { txs, counters } = runEngine(s.events, { maxPendingRequests: 2 });
  // /0 and /1 are dropped by the queue bound (2 responses owed); dropping /2 would owe a third.
  assert.deepEqual(summary(txs), ['/0 timeout', '/1 timeout', '/2 timeout', '/3 gap', '/4 gap', '/5 gap']);
  assert.equal(counters.http1_pending_overflow, 3);
  assert.equal(counters.http1_owed_overflow, 1);
  assert.equal(counters.http1_unpaired_responses, 6);
  assert.ok(txs.every((t) => t.http!.response === undefined));
});
