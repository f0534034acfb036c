// Secrets in the places a URL part lands — span attributes, span names, routes and RED labels —
// one test per shape a hostile or careless client produces. Each goes through the real signal
// pipeline (span builder, route registry, RED histograms rendered as on /metrics) and checks that
// the secret appears nowhere, and what is shown instead (semantic conventions: REDACTED values with
// keys kept, REDACTED:REDACTED userinfo in url.full).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../agent/protocols/transaction.js';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import type { TxSpan } from '../../agent/signals/tx-span.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { httpTx, grpcTx } from './helpers/make-transaction.js';

interface Seen { spans: TxSpan[]; red: string }

async function through(...txs: Transaction[]): Promise<Seen> {
  const spans: TxSpan[] = [];
  const p = new SignalPipeline({ telemetry: new TelemetryRegistry(), clock: fromEpoch(1_700_000_000, 0), linkWaitMs: 0, onSpan: (s) => spans.push(s) });
  for (const tx of txs) p.onTransaction(tx);
  await p.flush();
  const red = await p.metrics.renderPrometheus();
  await p.shutdown();
  assert.equal(spans.length, txs.length);
  return { spans, red };
}

/** The secret is nowhere: not in a span name, an attribute or a RED series. */
function nowhere(seen: Seen, secret: string): void {
  for (const s of seen.spans) {
    assert.ok(!s.name.includes(secret), `span name ${s.name}`);
    assert.ok(!JSON.stringify(s.attributes).includes(secret), `span attributes ${JSON.stringify(s.attributes)}`);
  }
  assert.ok(!seen.red.includes(secret), `RED series:\n${seen.red.split('\n').find((l) => l.includes(secret))}`);
}

const server = (seen: Seen) => seen.spans.find((s) => s.attributes['client.address'] !== undefined)!;
const client = (seen: Seen) => seen.spans.find((s) => s.attributes['url.full'] !== undefined)!;

test('path parameters: /x;jsessionid=… is redacted in url.path and dropped from the route, the span name and the http_route label', async () => {
  const seen = await through(
    httpTx({ target: '/cart;jsessionid=S3CRETjs1;lang=en' }),
    httpTx({ role: 'client', target: '/cart;jsessionid=S3CRETjs1', headers: { host: 'shop.test' } }),
  );
  nowhere(seen, 'S3CRETjs1');
  const s = server(seen);
  assert.equal(s.attributes['url.path'], '/cart;jsessionid=REDACTED;lang=en', 'other path parameters kept');
  assert.equal(s.attributes['http.route'], '/cart');
  assert.equal(s.name, 'GET /cart');
  assert.match(seen.red, /http_route="\/cart"/);
  assert.equal(client(seen).attributes['url.full'], 'http://shop.test/cart;jsessionid=REDACTED');
});

test('userinfo in a Host header / :authority never reaches server.address (span or label); url.full shows REDACTED:REDACTED', async () => {
  const seen = await through(
    httpTx({ headers: { host: 'admin:S3CREThost@api.test:8080' } }),
    httpTx({ role: 'client', target: '/v1/x', headers: { host: 'admin:S3CREThost@api.test:8080' } }),
    grpcTx('client', 0, { grpc: { service: 'demo.Greeter', method: 'SayHello', authority: 'admin:S3CREThost@grpc.test:50051', status: 0 } }),
  );
  nowhere(seen, 'S3CREThost');
  nowhere(seen, 'admin');
  assert.equal(server(seen).attributes['server.address'], 'api.test');
  assert.equal(client(seen).attributes['server.address'], 'api.test');
  assert.equal(client(seen).attributes['url.full'], 'http://REDACTED:REDACTED@api.test:8080/v1/x');
  assert.ok(seen.spans.some((s) => s.attributes['server.address'] === 'grpc.test'));
  assert.match(seen.red, /server_address="api\.test"/);
  assert.match(seen.red, /server_address="grpc\.test"/);
});

test('a secret-looking query key such as session_id: value REDACTED, key kept', async () => {
  const seen = await through(
    httpTx({ target: '/a?page=2&session_id=S3CRETsid&SessionToken=S3CRETsid&sortKey=S3CRETsid' }),
    httpTx({ role: 'client', target: '/a?session_id=S3CRETsid&page=2', headers: { host: 'b.test' } }),
  );
  nowhere(seen, 'S3CRETsid');
  assert.equal(server(seen).attributes['url.query'], 'page=2&session_id=REDACTED&SessionToken=REDACTED&sortKey=REDACTED');
  assert.equal(client(seen).attributes['url.full'], 'http://b.test/a?session_id=REDACTED&page=2');
});

test('credentials inside a URL given as a query value (plain, percent-encoded, or a nested secret query)', async () => {
  const seen = await through(
    httpTx({ target: '/login?next=https://bob:S3CRETnest@idp.test/cb&x=1' }),
    httpTx({ target: '/login?next=https%3A%2F%2Fbob%3AS3CRETnest%40idp.test%2Fcb' }),
    httpTx({ role: 'client', target: '/go?to=https%3A%2F%2Fidp.test%2Fcb%3Faccess_token%3DS3CRETnest&keep=https%3A%2F%2Fok.test%2F', headers: { host: 'r.test' } }),
  );
  nowhere(seen, 'S3CRETnest');
  const [plain, encoded] = seen.spans.filter((s) => s.attributes['client.address'] !== undefined);
  assert.equal(plain!.attributes['url.query'], 'next=REDACTED&x=1');
  assert.equal(encoded!.attributes['url.query'], 'next=REDACTED');
  assert.equal(client(seen).attributes['url.full'], 'http://r.test/go?to=REDACTED&keep=https%3A%2F%2Fok.test%2F', 'a URL without secrets is kept');
});

test('a request target //user:…@host/y: userinfo REDACTED in url.path, the route, the span name, the label and url.full', async () => {
  const seen = await through(
    httpTx({ target: '//carol:S3CRETnet@files.test/y' }),
    httpTx({ role: 'client', target: '//carol:S3CRETnet@files.test/y', headers: { host: 'front.test' } }),
    httpTx({ target: '/proxy/http://carol:S3CRETnet@files.test/z' }),
    httpTx({ target: '/proxy/http%3A%2F%2Fcarol%3AS3CRETnet%40files.test%2Fz' }),
  );
  nowhere(seen, 'S3CRETnet');
  nowhere(seen, 'carol');
  const s = server(seen);
  assert.equal(s.attributes['url.path'], '//REDACTED:REDACTED@files.test/y');
  assert.equal(s.attributes['http.route'], '//REDACTED:REDACTED@files.test/y');
  assert.equal(s.name, 'GET //REDACTED:REDACTED@files.test/y');
  assert.equal(client(seen).attributes['url.full'], 'http://front.test//REDACTED:REDACTED@files.test/y');
  const routes = seen.spans.map((x) => x.attributes['http.route']).filter((r) => r !== undefined);
  assert.ok(routes.includes('/proxy/http://REDACTED:REDACTED@files.test/z'), routes.join(' '));
  assert.ok(routes.includes('/proxy/REDACTED'), routes.join(' '));
});

test('percent-encoded keys: token%3D=…, %74oken=…, api%5Fkey=… are secret keys too', async () => {
  const seen = await through(
    httpTx({ target: '/q?token%3D=S3CRETenc&%74oken=S3CRETenc&api%5Fkey=S3CRETenc&token%3DS3CRETenc&plain=1' }),
    httpTx({ target: '/r;%6Asessionid=S3CRETenc' }),
  );
  nowhere(seen, 'S3CRETenc');
  assert.equal(server(seen).attributes['url.query'], 'token%3D=REDACTED&%74oken=REDACTED&api%5Fkey=REDACTED&REDACTED&plain=1');
  assert.ok(seen.spans.some((s) => s.attributes['url.path'] === '/r;%6Asessionid=REDACTED'));
});

test('semantic conventions to the letter: their default keys (case-sensitive names, keys kept), userinfo as REDACTED:REDACTED', async () => {
  const q = 'AWSAccessKeyId=S3CRETsc&Signature=S3CRETsc&sig=S3CRETsc&X-Amz-Signature=S3CRETsc&X-Amz-Credential=S3CRETsc&X-Amz-Security-Token=S3CRETsc&X-Goog-Signature=S3CRETsc&Expires=1700000000';
  const seen = await through(
    httpTx({ target: `/bucket/obj?${q}` }),
    httpTx({ role: 'client', target: `https://u:S3CRETsc@store.test/bucket/obj?${q}`, headers: { host: 'store.test' } }),
  );
  nowhere(seen, 'S3CRETsc');
  const redacted = 'AWSAccessKeyId=REDACTED&Signature=REDACTED&sig=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Security-Token=REDACTED&X-Goog-Signature=REDACTED&Expires=1700000000';
  assert.equal(server(seen).attributes['url.query'], redacted);
  assert.equal(client(seen).attributes['url.full'], `https://REDACTED:REDACTED@store.test/bucket/obj?${redacted}`);
});
