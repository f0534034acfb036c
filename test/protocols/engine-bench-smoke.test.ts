// Keeps the protocol benchmark honest without timing anything: every HTTP/1.1 scenario's batch
// runs once and must produce exactly the transactions it claims (the batches check this themselves).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparisons, scenarios } from '../../bench/protocols/http1-scenarios.js';

test('every HTTP/1.1 benchmark scenario and comparison side does the work it reports', () => {
  assert.ok(scenarios.length >= 4);
  for (const s of [...scenarios, ...comparisons.flatMap((c) => [c.ours, c.baseline])]) {
    const batch = s.setup();
    const units = batch();
    assert.ok(units > 0, s.name);
  }
});
