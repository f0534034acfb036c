// Threshold math against the examples of OpenTelemetry's probability-sampling spec
// (trace/tracestate-probability-sampling.md: the 1-in-N table at precisions 3, 4, 5, and the
// 1% example; trace/tracestate-handling.md: th:0 is 100%).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  adjustedCount, formatTh, keeps, MAX_ADJUSTED_COUNT, parseRv, parseTh, powerOfTwoThreshold, probabilityToThreshold,
  thresholdKey, thresholdToProbability, traceIdRandomness,
} from '../../agent/sampling/threshold.js';

// [probability, th at precision 3, 4, 5] — the spec's table.
const TABLE: Array<[number, string, string, string]> = [
  [1, '0', '0', '0'],
  [0.5, '8', '8', '8'],
  [1 / 3, 'aab', 'aaab', 'aaaab'],
  [0.25, 'c', 'c', 'c'],
  [0.2, 'ccd', 'cccd', 'ccccd'],
  [0.125, 'e', 'e', 'e'],
  [0.1, 'e66', 'e666', 'e6666'],
  [0.0625, 'f', 'f', 'f'],
  [0.01, 'fd71', 'fd70a', 'fd70a4'],
  [0.001, 'ffbe7', 'ffbe77', 'ffbe76d'],
  [0.0001, 'fff972', 'fff9724', 'fff97247'],
  [0.00001, 'ffff584', 'ffff583a', 'ffff583a5'],
  [0.000001, 'ffffef4', 'ffffef39', 'ffffef391'],
];

test('probability → th matches the spec table at precisions 3, 4 and 5', () => {
  for (const [p, ...ths] of TABLE) {
    ths.forEach((th, i) => assert.equal(formatTh(probabilityToThreshold(p, i + 3)), th, `p=${p} precision ${i + 3}`));
  }
});

test('the 1% example: (1 - 0.01) × 2^56 with 5 digits is 0xfd70a400000000, th fd70a4', () => {
  const t = probabilityToThreshold(0.01, 5);
  assert.equal(t, 0xfd70a400000000n);
  assert.equal(t, 71337018784743424n);
  assert.equal(formatTh(t), 'fd70a4');
});

test('adjusted counts and probabilities of the table (precision 4 is the default)', () => {
  assert.equal(adjustedCount(parseTh('0')!), 1);
  assert.equal(adjustedCount(parseTh('8')!), 2);
  assert.equal(adjustedCount(parseTh('c')!), 4);
  assert.equal(adjustedCount(parseTh('f')!), 16);
  assert.ok(Math.abs(adjustedCount(probabilityToThreshold(1 / 3)) - 3.00004577706569) < 1e-9);
  assert.ok(Math.abs(adjustedCount(probabilityToThreshold(0.01)) - 99.99771123402633) < 1e-9);
  assert.ok(Math.abs(thresholdToProbability(probabilityToThreshold(0.1)) - 0.100006103515625) < 1e-15);
});

test('th values parse padded with trailing zeros; malformed ones are refused', () => {
  assert.equal(parseTh('0'), 0n);
  assert.equal(parseTh('8'), 0x80000000000000n);
  assert.equal(parseTh('fd70a4'), 0xfd70a400000000n);
  assert.equal(parseTh('FD70A4'), 0xfd70a400000000n);
  assert.equal(parseTh('ffffffffffffff'), MAX_ADJUSTED_COUNT - 1n);
  for (const bad of ['', 'g', '0x8', 'fffffffffffffff' /* 15 digits */, ' 8', '8;']) assert.equal(parseTh(bad), undefined, bad);
  for (const th of ['8', 'c', 'fd70a4', 'ffffef39']) assert.equal(formatTh(parseTh(th)!), th);
});

test('probabilities outside [2^-56, 1] are refused', () => {
  for (const p of [0, -0.5, 1.5, NaN, 2 ** -57]) assert.throws(() => probabilityToThreshold(p), RangeError, String(p));
  // A double carries 12 hex digits after the leading f's at most (the spec's algorithm caps there too).
  assert.equal(formatTh(probabilityToThreshold(2 ** -56, 14)), 'ffffffffffff');
});

test('decision: keep when the trace id’s last 56 bits are >= the threshold', () => {
  const half = thresholdKey(parseTh('8')!);
  assert.equal(traceIdRandomness('0af7651916cd43dd8448eb211c80319c'), '48eb211c80319c');
  assert.equal(keeps(traceIdRandomness('0af7651916cd43dd8448eb211c80319c'), half), false); // 0x48… < 0x80…
  assert.equal(keeps(traceIdRandomness('0af7651916cd43dd8480000000000000'), half), true); // equal: kept
  assert.equal(keeps(traceIdRandomness('0af7651916cd43dd847fffffffffffff'), half), false);
  assert.equal(keeps('00000000000000', thresholdKey(0n)), true); // th:0 keeps everything
  assert.equal(parseRv('0123456789ABCD'), '0123456789abcd');
  assert.equal(parseRv('0123'), undefined);
});

test('power-of-two steps: 2^-level with th 0, 8, c, e, f, f8 … and exact adjusted counts', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map((l) => formatTh(powerOfTwoThreshold(l))), ['0', '8', 'c', 'e', 'f', 'f8', 'ffc']);
  for (let l = 0; l <= 10; l++) assert.equal(adjustedCount(powerOfTwoThreshold(l)), 2 ** l);
});
