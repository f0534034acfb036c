// Engine property: several HTTP/1.1 connections interleaved at random, under a connection bound that
// forces evictions. Every request is reported at most once (exactly once when nothing is evicted),
// every paired response is its own, and the table never exceeds its bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { CaptureEvent } from '../../agent/capture/capture-events.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { build, planArb } from './helpers/http1-exchange-generator.js';

test('interleaved connections with evictions: at most once, never a wrong pair, bounded', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(planArb(3), fc.constantFrom('client' as const, 'server' as const, 'unknown' as const), fc.boolean()), { minLength: 1, maxLength: 6 }),
    fc.integer({ min: 1, max: 7 }),
    fc.array(fc.nat(), { minLength: 1, maxLength: 64 }),
    (conns, maxConnections, picks) => {
      const built = conns.map(([plan, role, close], i) => build(plan, false, false, { connId: i + 1, role, close }));
      // Interleave: repeatedly take the next event of a randomly picked connection.
      const queues = built.map((b) => [...b.s.events]);
      const order: CaptureEvent[] = [];
      for (let k = 0; queues.some((q) => q.length > 0); k++) {
        const live = queues.filter((q) => q.length > 0);
        order.push(live[picks[k % picks.length]! % live.length]!.shift()!);
      }
      const txs: Transaction[] = [];
      const engine = new ProtocolEngine({ maxConnections }, (tx) => txs.push(tx));
      for (const ev of order) {
        engine.push([ev]);
        assert.ok(engine.openConnections <= maxConnections);
      }
      engine.tick(Number.MAX_SAFE_INTEGER); // idle eviction ends whatever is left
      assert.equal(engine.openConnections, 0);
      const c = engine.counters();
      assert.equal(c.http1_parser_exceptions, undefined);
      const seen = new Set<string>();
      for (const tx of txs) {
        const i = Number(tx.http!.request.path.slice(2));
        const key = `${tx.connId}/${i}`;
        assert.ok(!seen.has(key), `${key} reported twice`);
        seen.add(key);
        const truth = built[tx.connId - 1]!.truth[i]!;
        if (tx.http!.response !== undefined) {
          assert.equal(tx.http!.response.status, Number(truth.resp.slice(9, 12)), `${key} paired wrongly`);
          if (tx.error === undefined) assert.equal(tx.responseBytes, truth.resp.length, `${key} size`);
        }
      }
      if ((c.engine_evicted_capacity ?? 0) === 0) {
        assert.equal(txs.length, built.reduce((n, b) => n + b.truth.length, 0), 'without evictions every request is reported');
      }
    }), { numRuns: 300 });
});
