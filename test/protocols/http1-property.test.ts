// Property tests: random valid HTTP/1.1 exchanges, cut into random events, with random capture caps
// and random loss. Without loss every exchange comes out exactly; with loss every transaction that
// pairs a response carries that request's own response (never a wrong pair), and the rest is counted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { runEngine } from './helpers/engine-event-script.js';
import { build, planArb, type render } from './helpers/http1-exchange-generator.js';

function pathIndex(tx: Transaction): number {
  return Number(tx.http!.request.path.slice(2));
}

function assertNeverWrong(txs: Transaction[], truth: ReturnType<typeof render>[], counters: Record<string, number>): void {
  assert.equal(counters.http1_parser_exceptions, undefined);
  const seen = new Set<number>();
  for (const tx of txs) {
    const i = pathIndex(tx);
    assert.ok(Number.isInteger(i) && i >= 0 && i < truth.length, `unexpected path ${tx.http!.request.path}`);
    assert.ok(!seen.has(i), `request /r${i} reported twice`);
    seen.add(i);
    const resp = tx.http!.response;
    if (resp === undefined) continue;
    const expected = truth[i]!.resp;
    assert.equal(resp.status, Number(expected.slice(9, 12)), `/r${i} paired with another request's response`);
    const exact = tx.error === undefined && !tx.anomalies.some((a) => a.endsWith('_truncated'));
    if (exact) assert.equal(tx.responseBytes, expected.length, `/r${i} response size shows a wrong pair`);
  }
}

test('no loss: every exchange comes out exactly, at any split, one by one or pipelined, any role', () => {
  fc.assert(fc.property(planArb(4), roleArb, (plan, role) => {
    const { s, truth } = build(plan, false, false, { role });
    const { txs, counters } = runEngine(s.events);
    assert.equal(txs.length, truth.length);
    txs.forEach((tx, i) => {
      assert.equal(tx.http!.request.path, `/r${i}`);
      assert.equal(tx.error, undefined);
      assert.equal(tx.http!.response!.status, Number(truth[i]!.resp.slice(9, 12)));
      assert.equal(tx.requestBytes, truth[i]!.req.length);
      assert.equal(tx.responseBytes, truth[i]!.resp.length);
    });
    assert.equal(counters.http1_parse_errors, undefined);
  }), { numRuns: 300 });
});

const roleArb = fc.constantFrom('client' as const, 'server' as const, 'unknown' as const);

test('random loss and capping, one request at a time, any role: never a wrong pair, losses counted', () => {
  fc.assert(fc.property(planArb(1), roleArb, (plan, role) => {
    const { s, truth } = build(plan, true, false, { role });
    const { txs, counters } = runEngine(s.events);
    assertNeverWrong(txs, truth, counters);
  }), { numRuns: 400 });
});

test('random loss with pipelining (seen before the first loss), any role: never a wrong pair', () => {
  fc.assert(fc.property(planArb(4).filter((p) => p.batch >= 2 && p.exchanges.length >= 2), roleArb, (plan, role) => {
    const { s, truth } = build(plan, true, true, { role });
    const { txs, counters } = runEngine(s.events);
    assertNeverWrong(txs, truth, counters);
  }), { numRuns: 400 });
});

test('random loss with pipelining from the first request (loss anywhere), any role: never a wrong pair', () => {
  fc.assert(fc.property(planArb(4).filter((p) => p.batch >= 2 && p.exchanges.length >= 2), roleArb, (plan, role) => {
    const { s, truth } = build(plan, true, false, { role });
    const { txs, counters } = runEngine(s.events);
    assertNeverWrong(txs, truth, counters);
  }), { numRuns: 400 });
});
