// Fuzzes the HPACK decoder: header blocks from an independent encoder (hpack.js), mutated, fed in
// sequence to one decoder so the dynamic table is exercised too. Zero exceptions, bounded table.
// Usage: node dist/bench/fuzz/hpack-fuzz.js [iterations=1000000] [seed=1]
import { createRequire } from 'node:module';
import { HpackDecoder } from '../../agent/protocols/http2/hpack-decoder.js';
import { Rng, fuzzLoop, mutateBytes, printReport, type FuzzReport } from './http2-fuzz-mutations.js';

const require = createRequire(import.meta.url);

function corpus(rng: Rng, n: number): Uint8Array[] {
  const hpack = require('hpack.js');
  const comp = hpack.compressor.create({ table: { maxSize: 4096 } });
  const names = [':method', ':path', ':authority', 'user-agent', 'content-type', 'grpc-timeout', 'x-custom', 'cookie'];
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const headers = Array.from({ length: 1 + rng.int(8) }, () => ({ name: names[rng.int(names.length)]!, value: 'v'.repeat(rng.int(40)) + String(rng.int(1000)) }));
    comp.write(headers);
    const parts: Buffer[] = [];
    for (let c = comp.read(); c !== null; c = comp.read()) parts.push(c);
    out.push(Uint8Array.from(Buffer.concat(parts)));
  }
  return out;
}

export function fuzzHpack(iterations: number, seed = 1): FuzzReport {
  const rng = new Rng(seed);
  const blocks = corpus(rng, 200);
  let dec = new HpackDecoder(4096, 16384);
  return fuzzLoop('hpack', iterations, (i) => {
    if (i % 64 === 0) dec = new HpackDecoder(4096, 16384);
    const b = blocks[rng.int(blocks.length)]!;
    const m = rng.chance(0.8) ? mutateBytes(rng, b) : b;
    const res = dec.decode(m, 0, m.length);
    if (res.malformed || res.truncated) dec.desync();
    if (dec.tableSize > 16384) throw new Error(`table grew to ${dec.tableSize}`);
    return { txs: res.headers.length / 2, buffered: dec.tableSize };
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = fuzzHpack(Number(process.argv[2] ?? 1_000_000), Number(process.argv[3] ?? 1));
  printReport(r);
  process.exit(r.exceptions === 0 ? 0 : 1);
}
