// Hostile clients on the collector's OTLP/gRPC port must cost nothing lasting. A client that sends
// the HTTP/2 preface, a SETTINGS frame and then garbage gets a GOAWAY from Node's HTTP/2 layer, but
// the server never closes that socket by itself (CLOSE-WAIT once the client hangs up): enough of them
// exhaust the file descriptors and the collector goes deaf. The receiver's idle limit
// (keepalive.server_parameters.max_connection_idle, default 10s) closes them. The collector runs as a
// child with its default receiver settings, its fd limit lowered with prlimit once it is up.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { ExportResultCode } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { sdkClientServerSpans } from './helpers/collector-harness.js';
import { freePort } from '../helpers/free-port.js';

const bin = fileURLToPath(new URL('../../../bin/sockeye.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sockeye-grpc-broken-'));
const cleanups: (() => void)[] = [];
after(() => { cleanups.forEach((c) => c()); rmSync(dir, { recursive: true, force: true }); });

const FD_LIMIT = 256;
const BROKEN = 300;
const noPrlimit = spawnSync('prlimit', ['--version']).status !== 0 ? 'prlimit (util-linux) is not installed' : false;


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sockets of the collector's gRPC port in CLOSE-WAIT (the client has hung up, the server has not). */
function closeWait(port: number): number {
  const r = spawnSync('ss', ['-tanH', 'state', 'close-wait', `( sport = :${port} )`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.trim()).length;
}

/** Preface + empty SETTINGS + bytes that read as an oversized frame: Node answers GOAWAY. */
function brokenClient(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]), Buffer.from('garbage\r\n\r\n')]));
    });
    const done = () => { s.destroy(); resolve(); };
    s.on('data', () => s.end()); // the GOAWAY: hang up, as a client that gives up does
    s.on('close', done);
    s.on('error', done);
    setTimeout(done, 2000).unref(); // never answered (not accepted: fds exhausted): give up too
  });
}

async function exportOnce(port: number): Promise<{ code: ExportResultCode; error?: Error }> {
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, timeoutMillis: 2000 });
  const spans = await sdkClientServerSpans(1, { client: 'after-attack', server: 'after-attack-server' });
  try {
    return await new Promise((res) => exporter.export(spans, res));
  } finally {
    await exporter.shutdown().catch(() => undefined);
  }
}

test(`${BROKEN} broken HTTP/2 clients under a ${FD_LIMIT}-fd limit: their sockets are closed, then a valid export succeeds`, { skip: noPrlimit, timeout: 90_000 }, async () => {
  const [grpcPort, healthPort] = [await freePort(), await freePort()];
  const file = join(dir, 'c.yaml');
  writeFileSync(file, `
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${grpcPort}" } } } }
exporters: { debug: { verbosity: basic } }
extensions: { health_check: { endpoint: "127.0.0.1:${healthPort}" } }
service:
  extensions: [health_check]
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
`);
  const child = spawn(process.execPath, [bin, 'collector', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const fds = () => readdirSync(`/proc/${child.pid}/fd`).length;

  let up = false;
  for (const end = Date.now() + 15_000; !up && Date.now() < end; await sleep(100)) {
    try { up = (await fetch(`http://127.0.0.1:${healthPort}/`)).status === 200; } catch { /* not yet */ }
  }
  assert.ok(up, `collector started; stderr:\n${err}`);
  // The limit is lowered once it runs (module loading at start-up opens many files at once).
  assert.equal(spawnSync('prlimit', ['--pid', String(child.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`]).status, 0, 'prlimit --pid');
  const baseline = fds();

  const started = Date.now();
  await Promise.all(Array.from({ length: BROKEN }, () => brokenClient(grpcPort)));
  const heldAfterAttack = closeWait(grpcPort);
  assert.ok(heldAfterAttack > 0 || fds() > baseline + 50, 'the attack really held sockets (else this test proves nothing)');

  // A valid export: retried while the descriptors are still held (the collector may be deaf then).
  let result: { code: ExportResultCode; error?: Error } = { code: ExportResultCode.FAILED };
  while (Date.now() - started < 45_000) {
    result = await exportOnce(grpcPort);
    if (result.code === ExportResultCode.SUCCESS) break;
    await sleep(500);
  }
  assert.equal(result.code, ExportResultCode.SUCCESS, `valid export after the attack: ${result.error?.message}`);
  const exportedAt = Date.now();

  // Every broken socket closed, descriptors back to where they were.
  for (const end = Date.now() + 20_000; Date.now() < end && (closeWait(grpcPort) > 0 || fds() > baseline + 5); ) await sleep(200);
  assert.equal(closeWait(grpcPort), 0, 'no socket left in CLOSE-WAIT');
  const closedAt = Date.now();
  assert.ok(fds() <= baseline + 5, `fds back near baseline (${baseline}): ${fds()}`);
  for (const end = Date.now() + 5000; Date.now() < end && !out.includes('spans'); ) await sleep(100);
  assert.match(out, /traces: \d+ spans/, 'the exported spans reached the pipeline');
  assert.equal((await fetch(`http://127.0.0.1:${healthPort}/`)).status, 200, 'health check answers');
  console.log(`# ${heldAfterAttack} sockets in CLOSE-WAIT right after the attack; valid export succeeded ${exportedAt - started} ms and all closed ${closedAt - started} ms after it began`);
  child.kill('SIGTERM');
});

test('a well-behaved client across idle closes: each export still succeeds (it reconnects), nothing refused', async () => {
  const { startCollector, receiverPorts } = await import('./helpers/collector-harness.js');
  const svc = await startCollector(`
receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:0", keepalive: { server_parameters: { max_connection_idle: 300ms } } } } } }
exporters: { debug: { verbosity: basic } }
service: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } } }
`);
  cleanups.push(() => void svc.shutdown());
  const port = receiverPorts(svc).grpc;
  const exporter = new OTLPTraceExporter({ url: `http://127.0.0.1:${port}`, timeoutMillis: 3000 });
  const spans = await sdkClientServerSpans(1);
  for (let i = 0; i < 3; i++) {
    const r = await new Promise<{ code: ExportResultCode; error?: Error }>((res) => exporter.export(spans, res));
    assert.equal(r.code, ExportResultCode.SUCCESS, `export ${i}: ${r.error?.message}`);
    await sleep(800); // longer than the idle limit: the server closes the connection meanwhile
  }
  await exporter.shutdown();
  await svc.shutdown();
});
