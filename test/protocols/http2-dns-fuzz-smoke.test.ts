// A short run of the on-demand fuzzers (bench/fuzz/{http2,hpack,dns}-fuzz.ts): the same inputs and
// pass criteria as the million-input runs, at a size that fits the default test run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzzHttp2 } from '../../bench/fuzz/http2-fuzz.js';
import { fuzzHpack } from '../../bench/fuzz/hpack-fuzz.js';
import { fuzzDns } from '../../bench/fuzz/dns-fuzz.js';

for (const [name, run, n] of [['http2', fuzzHttp2, 3000], ['hpack', fuzzHpack, 20000], ['dns', fuzzDns, 5000]] as const) {
  test(`${name} fuzz smoke: ${n} mutated inputs, zero exceptions, bounded buffers`, () => {
    const seed = 1 + Math.floor(Math.random() * 1e6);
    const r = run(n, seed);
    assert.equal(r.exceptions, 0, `seed ${seed}: ${r.firstException}`);
    assert.ok(r.maxBufferedBytes <= 256 * 1024, `buffered ${r.maxBufferedBytes}`);
    assert.ok(r.transactions > 0, 'mutated inputs still yield transactions');
  });
}
