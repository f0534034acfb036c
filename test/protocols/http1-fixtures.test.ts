// Recorded real byte streams (scripts/record-fixtures/record-http1.js: curl, Node's http client and
// a raw pipelining socket against a real Node http server, captured by a logging TCP proxy). The
// expected exchanges are the server's own log. Each stream is replayed as recorded, from the
// server's side, with the role unknown, split at every byte boundary, and with a capture cap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import type { Direction, Role } from '../../agent/capture/capture-events.js';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { ProtocolEngine } from '../../agent/protocols/engine/protocol-engine.js';
import { ParserRegistry } from '../../agent/protocols/engine/parser-registry.js';
import { createHttp1Parser } from '../../agent/protocols/http1/http1-connection-parser.js';
import { builtinParsers } from '../../agent/protocols/engine/builtin-parsers.js';
import { EventScript } from './helpers/engine-event-script.js';

interface Fixture { description: string; expect: { method: string; target: string; status: number; upgrade?: string }[]; chunks: { dir: Direction; data: string }[] }

const dir = new URL('../../../test/fixtures/protocols/http1/', import.meta.url).pathname;
const fixtures = readdirSync(dir).filter((f) => f.endsWith('.json')).sort()
  .map((f) => ({ name: f, ...(JSON.parse(readFileSync(dir + f, 'utf8')) as Fixture) }));
const chunksOf = (f: Fixture) => f.chunks.map((c) => ({ dir: c.dir, bytes: Buffer.from(c.data, 'base64') }));

function replay(chunks: { dir: Direction; bytes: Uint8Array }[], role: Role, cap = Infinity): { txs: Transaction[]; counters: Record<string, number> } {
  const flip = role === 'server';
  const s = new EventScript(1, role);
  for (const c of chunks) s.data(flip ? (c.dir === 'egress' ? 'ingress' : 'egress') : c.dir, c.bytes, cap);
  s.close();
  const txs: Transaction[] = [];
  const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx), new ParserRegistry().register('http1', createHttp1Parser));
  engine.push(s.events);
  return { txs, counters: engine.counters() };
}

const view = (txs: Transaction[]) => txs.map((t) => ({ method: t.http!.request.method, target: t.http!.request.target, status: t.http!.response?.status ?? 0 }));
const truth = (f: Fixture) => f.expect.map(({ method, target, status }) => ({ method, target, status }));

test('fixtures were recorded', () => {
  assert.ok(fixtures.length >= 8, `found ${fixtures.length} fixtures in ${dir}`);
});

for (const f of fixtures) {
  test(`${f.name}: ${f.description}`, () => {
    const chunks = chunksOf(f);
    for (const role of ['client', 'server', 'unknown'] as const) {
      const { txs, counters } = replay(chunks, role);
      assert.deepEqual(view(txs), truth(f), `${role} view`);
      assert.equal(counters.http1_parse_errors, undefined, `${role} view`);
      for (const tx of txs) {
        assert.equal(tx.error, undefined);
        assert.equal(tx.role, role === 'server' ? 'server' : 'client', 'the role is known or inferred');
        assert.ok(tx.requestBytes > 0 && tx.endNs >= tx.startNs);
      }
    }
    const upgraded = f.expect.some((e) => e.upgrade !== undefined);
    const { txs } = replay(chunks, 'client');
    if (!upgraded) {
      const egress = chunks.filter((c) => c.dir === 'egress').reduce((n, c) => n + c.bytes.length, 0);
      assert.equal(txs.reduce((n, t) => n + t.requestBytes, 0), egress, 'every request byte is accounted for');
    } else if (f.expect[0]!.upgrade === 'h2c') {
      assert.deepEqual(txs[0]!.anomalies, ['h2c_not_parsed'], 'without an HTTP/2 parser the upgrade is flagged');
    }
  });

  test(`${f.name}: split at every byte boundary, and capped at 256 bytes per event`, () => {
    const chunks = chunksOf(f);
    const expected = truth(f);
    const whole = replay(chunks, 'client').txs;
    let total = 0;
    for (const c of chunks) total += c.bytes.length;
    for (let p = 1; p < total; p++) {
      const split: typeof chunks = [];
      let at = 0;
      for (const c of chunks) {
        if (p > at && p < at + c.bytes.length) split.push({ dir: c.dir, bytes: c.bytes.subarray(0, p - at) }, { dir: c.dir, bytes: c.bytes.subarray(p - at) });
        else split.push(c);
        at += c.bytes.length;
      }
      const { txs } = replay(split, 'client');
      assert.deepEqual(view(txs), expected, `split at byte ${p}`);
      assert.deepEqual(txs.map((t) => [t.requestBytes, t.responseBytes]), whole.map((t) => [t.requestBytes, t.responseBytes]), `sizes, split at byte ${p}`);
    }
    // Capped: bodies are skipped by count. Where a cap cuts a head (two pipelined responses in one
    // read) what follows may be unpairable: then it must end as an error, never as a wrong pair.
    const capped = replay(chunks, 'client', 256);
    assert.equal(capped.txs.length, expected.length, 'capped: no request vanishes');
    capped.txs.forEach((tx, i) => {
      // Framing a cap can hide: a second head, or chunk-size lines, in a read longer than the cap.
      const cut = chunks.some((c) => c.bytes.length > 256 && /HTTP\/1\.\d \d\d\d|[A-Z]+ \S+ HTTP\/1|\r\n0\r\n/.test(Buffer.from(c.bytes.subarray(1)).toString('latin1')));
      if (tx.error === undefined && tx.anomalies.every((a) => a === 'h2c_not_parsed')) {
        assert.deepEqual(view([tx])[0], expected[i], `capped exchange ${i}`);
        assert.deepEqual([tx.requestBytes, tx.responseBytes], [whole[i]!.requestBytes, whole[i]!.responseBytes], `capped sizes ${i}`);
      } else {
        assert.ok(cut, `capped exchange ${i} degraded (${tx.error} ${tx.anomalies}) although no head was cut`);
        assert.deepEqual([tx.http!.request.method, tx.http!.request.target], [expected[i]!.method, expected[i]!.target]);
        if (tx.http!.response) assert.equal(tx.http!.response.status, expected[i]!.status);
      }
    });
  });
}

test('curl-h2c-upgrade.json through the built-in parsers: the upgraded request is answered on HTTP/2 stream 1', (t) => {
  const registry = builtinParsers();
  if (registry.get('http2') === undefined) { t.skip('no HTTP/2 parser registered'); return; }
  const f = fixtures.find((x) => x.name === 'curl-h2c-upgrade.json')!;
  for (const role of ['client', 'server', 'unknown'] as const) {
    const s = new EventScript(1, role);
    for (const c of chunksOf(f)) s.data(role === 'server' ? (c.dir === 'egress' ? 'ingress' : 'egress') : c.dir, c.bytes);
    s.close();
    const txs: Transaction[] = [];
    const engine = new ProtocolEngine(undefined, (tx) => txs.push(tx), registry);
    engine.push(s.events);
    assert.deepEqual(txs.map((x) => [x.protocol, x.streamId, x.http?.request.path, x.http?.response?.status, x.error, x.role]),
      [['http2', 1, '/h2', 200, undefined, role === 'server' ? 'server' : 'client']], role);
    assert.equal(engine.counters().engine_switch_to_http2, 1);
    assert.equal(engine.counters().engine_verdict_disagreements, undefined);
  }
});
