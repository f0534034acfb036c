// Fuzzes the HTTP/2 parser with mutated recorded HTTP/2 and gRPC streams (on demand, not in the
// default test run): zero exceptions and bounded buffers are the pass criteria.
// Usage: node dist/bench/fuzz/http2-fuzz.js [iterations=1000000] [seed=1]
import { Http2Parser } from '../../agent/protocols/http2/http2-parser.js';
import type { ParserSink } from '../../agent/protocols/protocol-parser.js';
import { Rng, fixtureEvents, fuzzLoop, mutateEvents, printReport, type FuzzReport } from './http2-fuzz-mutations.js';

const FIXTURES: [string, string][] = [
  ['http2', 'node-get-post-404'], ['http2', 'node-concurrent'], ['http2', 'node-padded-continuation'], ['http2', 'node-reset'],
  ['grpc', 'grpc-unary-ok-error'], ['grpc', 'grpc-concurrent'], ['grpc', 'grpc-cancelled'],
];

export function fuzzHttp2(iterations: number, seed = 1): FuzzReport {
  const rng = new Rng(seed);
  const corpora = FIXTURES.map(([a, n]) => fixtureEvents(a, n));
  let txs = 0;
  const sink: ParserSink = { emit: () => { txs++; }, count: () => {} };
  return fuzzLoop('http2', iterations, () => {
    txs = 0;
    const base = corpora[rng.int(corpora.length)]!;
    const events = mutateEvents(rng, base);
    const parser = new Http2Parser(base[0]!, sink);
    let buffered = 0;
    for (const e of events) {
      if (e.kind === 'data') parser.onData(e); else if (e.kind === 'gap') parser.onGap(e);
      buffered = Math.max(buffered, parser.bufferedBytes());
    }
    parser.onTick(1e15);
    return { txs, buffered };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = fuzzHttp2(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 1));
  printReport(r);
  process.exit(r.exceptions === 0 ? 0 : 1);
}
