// Fuzzes the DNS parser (UDP and TCP) with mutated dig traffic: zero exceptions, bounded buffers.
// Usage: node dist/bench/fuzz/dns-fuzz.js [iterations=1000000] [seed=1]
import { DnsParser } from '../../agent/protocols/dns/dns-parser.js';
import type { ParserSink } from '../../agent/protocols/protocol-parser.js';
import { Rng, fixtureEvents, fuzzLoop, mutateEvents, printReport, type FuzzReport } from './http2-fuzz-mutations.js';

export function fuzzDns(iterations: number, seed = 1): FuzzReport {
  const rng = new Rng(seed);
  const corpora = [fixtureEvents('dns', 'dig-udp', 'server'), fixtureEvents('dns', 'dig-tcp-keepopen', 'server')];
  let txs = 0;
  const sink: ParserSink = { emit: () => { txs++; }, count: () => {} };
  return fuzzLoop('dns', iterations, () => {
    txs = 0;
    const base = corpora[rng.int(corpora.length)]!;
    const parser = new DnsParser(base[0]!, sink);
    let buffered = 0;
    for (const e of mutateEvents(rng, base)) {
      if (e.kind === 'data') parser.onData(e); else if (e.kind === 'gap') parser.onGap(e);
      buffered = Math.max(buffered, parser.bufferedBytes());
    }
    parser.onTick(1e15);
    return { txs, buffered };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = fuzzDns(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 1));
  printReport(r);
  process.exit(r.exceptions === 0 ? 0 : 1);
}
