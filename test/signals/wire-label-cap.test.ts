// Every metric label taken from the wire is bounded: a client talking to 5,000 hosts (Host header →
// server.address) or asking 5,000 DNS names (dns.question.name) makes at most the per-service cap of
// series plus one _OTHER series, and each value folded into _OTHER is counted on /metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SignalPipeline } from '../../agent/signals/signal-pipeline.js';
import { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { fromEpoch } from '../../agent/signals/boot-clock.js';
import { dnsTx, httpTx } from './helpers/make-transaction.js';

const clock = fromEpoch(1_700_000_000, 0);
const HOSTS = 5_000;
const CAP = 50;

function countLines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

test('5,000 distinct Host headers on client requests: server.address series stay at the cap plus _OTHER, overflow counted', async () => {
  const telemetry = new TelemetryRegistry();
  const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, maxLabelValuesPerService: CAP, onSpan: () => undefined });
  for (let i = 0; i < HOSTS; i++) p.onTransaction(httpTx({ role: 'client', target: '/', headers: { host: `h${i}.example.test:8080` } }));
  const text = await p.metrics.renderPrometheus();
  const series = countLines(text, 'http_client_request_duration_seconds_count{');
  assert.equal(series.length, CAP + 1);
  const other = series.find((l) => l.includes('server_address="_OTHER"'));
  assert.ok(other?.endsWith(` ${HOSTS - CAP}`), other);
  assert.equal(telemetry.get('sockeye_metric_label_overflow_total', { attribute: 'server.address' }), HOSTS - CAP);
  assert.match(telemetry.render(), new RegExp(`^sockeye_metric_label_overflow_total\\{attribute="server.address"\\} ${HOSTS - CAP}$`, 'm'));
  await p.shutdown();
});

test('5,000 distinct DNS question names: dns.lookup.duration series stay bounded, overflow counted; spans keep the real name', async () => {
  const telemetry = new TelemetryRegistry();
  const names: string[] = [];
  const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, maxLabelValuesPerService: CAP,
    onSpan: (s) => { names.push(String(s.attributes['dns.question.name'])); } });
  for (let i = 0; i < HOSTS; i++) {
    const tx = dnsTx('NOERROR');
    tx.dns!.qname = `n${i}.example.test`;
    p.onTransaction(tx);
  }
  const series = countLines(await p.metrics.renderPrometheus(), 'dns_lookup_duration_seconds_count{');
  assert.equal(series.length, CAP + 1);
  assert.equal(telemetry.get('sockeye_metric_label_overflow_total', { attribute: 'dns.question.name' }), HOSTS - CAP);
  assert.ok(names.includes(`n${HOSTS - 1}.example.test`), 'the span carries the name beyond the cap');
  await p.shutdown();
});

test('the default cap applies when none is configured', async () => {
  const telemetry = new TelemetryRegistry();
  const p = new SignalPipeline({ telemetry, clock, linkWaitMs: 0, onSpan: () => undefined });
  for (let i = 0; i < HOSTS; i++) p.onTransaction(httpTx({ role: 'client', target: '/', headers: { host: `h${i}.example.test` } }));
  const series = countLines(await p.metrics.renderPrometheus(), 'http_client_request_duration_seconds_count{');
  assert.equal(series.length, 101, 'the default of 100 values plus _OTHER');
  await p.shutdown();
});
