import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteRegistry, templatePath, OVERFLOW_ROUTE } from '../../agent/signals/route-template.js';
import { redactQuery, redactUrl } from '../../agent/signals/redaction.js';
import { parseTraceparent, newSpanId, newTraceId } from '../../agent/signals/trace-context.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';

test('route heuristic templates numeric, uuid, hex and token segments and keeps words', () => {
  assert.equal(templatePath('/users/42/orders/7'), '/users/{id}/orders/{id}');
  assert.equal(templatePath('/items/3f2a1c9e-0b7d-4e52-9a61-2c8d0f4b7e10'), '/items/{uuid}');
  assert.equal(templatePath('/commits/9fceb02d0ae598e95dc970b74767f19372d61af8'), '/commits/{hex}');
  assert.equal(templatePath('/blob/deadbeef1'), '/blob/{hex}');
  assert.equal(templatePath('/api/v2/health'), '/api/v2/health');
  assert.equal(templatePath('/'), '/');
  assert.equal(templatePath('/search?q=1'), '/search');
});

test('per-service route cap: new routes beyond it fold into the overflow route and are counted', () => {
  const r = new RouteRegistry(3);
  assert.equal(r.route('a', '/x'), '/x');
  assert.equal(r.route('a', '/y'), '/y');
  assert.equal(r.route('a', '/z/1'), '/z/{id}');
  assert.equal(r.route('a', '/z/2'), '/z/{id}', 'a known template is not new');
  assert.equal(r.route('a', '/w'), OVERFLOW_ROUTE);
  assert.equal(r.route('a', '/v'), OVERFLOW_ROUTE);
  assert.equal(r.overflowed, 2);
  assert.equal(r.route('b', '/w'), '/w', 'the cap is per service');
});

test('redaction: secret-looking query keys only; URL credentials replaced by REDACTED:REDACTED', () => {
  assert.equal(redactQuery('a=1&token=x&Password=y&apiKey=z&key=k&sig=s'), 'a=1&token=REDACTED&Password=REDACTED&apiKey=REDACTED&key=REDACTED&sig=REDACTED');
  assert.equal(redactQuery('monkey=1&tokens=2'), 'monkey=1&tokens=2');
  assert.equal(redactUrl('https://u:p@h.test:8443/p?x=1&client_secret=c#frag'), 'https://REDACTED:REDACTED@h.test:8443/p?x=1&client_secret=REDACTED#frag');
  assert.equal(redactUrl('https://h.test/cb#access_token=t0k&state=1'), 'https://h.test/cb#access_token=REDACTED&state=1', 'a fragment carrying a token');
  assert.equal(redactUrl('https://h.test/p?keyboard=1&monkey=2'), 'https://h.test/p?keyboard=1&monkey=2', 'words merely containing a secret word are kept');
});

test('traceparent parsing accepts valid W3C values and rejects invalid ones', () => {
  const c = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  assert.deepEqual(c, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
  assert.equal(parseTraceparent('00-00000000000000000000000000000000-00f067aa0ba902b7-01'), undefined);
  assert.equal(parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'), undefined);
  assert.equal(parseTraceparent('ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'), undefined);
  assert.equal(parseTraceparent('garbage'), undefined);
  assert.match(newTraceId(), /^[0-9a-f]{32}$/);
  assert.match(newSpanId(), /^[0-9a-f]{16}$/);
  assert.notEqual(newSpanId(), newSpanId());
});

test('boot clock keeps nanosecond precision past 2^53', () => {
  const c = fromEpoch(1_700_000_000, 123_456_789);
  assert.deepEqual(c.toHrTime(5_000_000_001), [1_700_000_005, 123_456_790]);
  assert.deepEqual(c.toHrTime(999_999_999), [1_700_000_001, 123_456_788]);
});
