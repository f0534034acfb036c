// A short run of the HTTP/1.1 fuzzer (bench/fuzz/http1-fuzz.ts; the full run is ≥1M inputs on demand).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runHttp1Fuzz } from '../../bench/fuzz/http1-fuzz.js';

test('fuzz smoke: mutated real streams never throw, buffers stay bounded, problems are counted', () => {
  const rep = runHttp1Fuzz(4000, 20261122);
  assert.equal(rep.exceptions, 0, rep.firstException);
  assert.ok(rep.maxBufferedBytes <= 2 * (8192 + 4), `a parser held ${rep.maxBufferedBytes} bytes`);
  assert.ok(rep.transactions > 0, 'mutated streams still yield transactions');
  for (const c of ['http1_parse_errors', 'http1_resyncs', 'http1_framing_losses', 'http1_degraded_heads']) {
    assert.ok((rep.counted[c] ?? 0) > 0, `${c} is counted`);
  }
});
