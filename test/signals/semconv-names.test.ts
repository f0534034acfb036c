// Every attribute and metric name the agent emits is a current name of the pinned
// @opentelemetry/semantic-conventions package (declared there and not marked @deprecated), or one of
// our own documented names that the conventions do not define.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SpanBuilder, type BuiltSignals } from '../../agent/signals/span-builder.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { RouteRegistry } from '../../agent/signals/route-template.js';
import { ProcessResources } from '../../agent/signals/process-resource.js';
import { METRIC, SCHEMA_URL } from '../../common/semconv/semconv.js';
import { dnsTx, grpcTx, httpTx } from './helpers/make-transaction.js';
import type { Transaction } from '../../agent/protocols/transaction.js';

/** Ours, documented in docs/agent.md: DNS has no span convention; sockeye.* are our namespace. */
const OWN = new Set(['dns.question.type', 'dns.response_code']);
const ownName = (n: string) => OWN.has(n) || n.startsWith('sockeye.');

const require = createRequire(import.meta.url);
// The package exports no ./package.json: resolve its entry point (dist/index.cjs) and go up.
const pkgDir = dirname(dirname(require.resolve('@opentelemetry/semantic-conventions')));
const pkgVersion = (JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version;

/** name → deprecated?, from the package's declarations and their doc comments. */
function packageNames(): Map<string, boolean> {
  const names = new Map<string, boolean>();
  for (const f of ['stable_attributes', 'experimental_attributes', 'stable_metrics', 'experimental_metrics']) {
    const text = readFileSync(join(pkgDir, 'dist', `${f}.d.mts`), 'utf8');
    const decl = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*declare const \w+: "([^"]+)";/g;
    for (let m = decl.exec(text); m; m = decl.exec(text)) {
      const deprecated = m[1]!.includes('@deprecated');
      names.set(m[2]!, (names.get(m[2]!) ?? true) && deprecated); // current if any declaration is
    }
  }
  return names;
}

function emittedNames(): Set<string> {
  const resources = new ProcessResources();
  const builder = new SpanBuilder(fromEpoch(1_700_000_000, 0), new RouteRegistry(100));
  const txs: Transaction[] = [
    httpTx({ target: '/users/42?q=1', headers: { userAgent: 'curl/8' } }),
    httpTx({ role: 'client', status: 404, headers: { host: 'api:80' } }),
    httpTx({ method: 'BREW', status: 500 }),
    httpTx({ method: '', target: '' }),
    grpcTx('server', 5), grpcTx('client', 14), grpcTx('client', undefined, { error: 'stream_reset' }),
    dnsTx('NXDOMAIN'), dnsTx(undefined, 'timeout'),
  ];
  const out = new Set<string>(Object.values(METRIC));
  for (const tx of txs) {
    const who = resources.get(tx.process);
    for (const k of Object.keys(who.attributes)) out.add(k);
    const b = builder.build(tx, who);
    assert.notEqual(typeof b, 'string', `skipped: ${String(b)}`);
    const built = b as BuiltSignals;
    for (const k of Object.keys(built.span.attributes)) out.add(k);
    for (const k of Object.keys(built.metric.attributes)) out.add(k);
  }
  return out;
}

test(`every name we emit is current in @opentelemetry/semantic-conventions (${pkgVersion})`, () => {
  const known = packageNames();
  assert.ok(known.size > 500, `read ${known.size} names from the package`);
  const emitted = emittedNames();
  assert.ok(emitted.has('rpc.status_code') && emitted.has('http.request.method') && emitted.has('dns.question.name'));
  const deprecated = [...emitted].filter((n) => known.get(n) === true);
  assert.deepEqual(deprecated, [], 'deprecated names emitted');
  const unknown = [...emitted].filter((n) => !known.has(n) && !ownName(n));
  assert.deepEqual(unknown, [], 'names neither in the package nor our own');
});

test('schema_url names the semantic-conventions release of the pinned package', () => {
  assert.equal(SCHEMA_URL, `https://opentelemetry.io/schemas/${pkgVersion}`);
});
