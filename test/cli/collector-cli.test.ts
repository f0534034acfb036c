// `sockeye collector` as a user runs it: a child process from bin/sockeye.js with a YAML file,
// spans posted over OTLP/HTTP show up on the debug exporter's console output, health_check answers,
// SIGTERM shuts it down cleanly; a bad config exits 2 naming the key.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../helpers/free-port.js';

const bin = fileURLToPath(new URL('../../../bin/sockeye.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sockeye-collector-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));


test('runs a config: OTLP/HTTP JSON in, debug console out, health 200, clean exit on SIGTERM', async () => {
  const [httpPort, healthPort] = [await freePort(), await freePort()];
  const file = join(dir, 'debug.yaml');
  writeFileSync(file, `
receivers: { otlp: { protocols: { http: { endpoint: "127.0.0.1:${httpPort}" } } } }
exporters: { debug: { verbosity: normal } }
extensions: { health_check: { endpoint: "127.0.0.1:${healthPort}" } }
service:
  extensions: [health_check]
  pipelines: { traces: { receivers: [otlp], exporters: [debug] } }
`);
  const child = spawn(process.execPath, [bin, 'collector', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  try {
    const deadline = Date.now() + 10_000;
    let health = 0;
    while (Date.now() < deadline) {
      try { health = (await fetch(`http://127.0.0.1:${healthPort}/`)).status; } catch { /* not up yet */ }
      if (health === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(health, 200, `collector did not become healthy; stderr:\n${err}`);
    const res = await fetch(`http://127.0.0.1:${httpPort}/v1/traces`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', name: 'GET /cli-check', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2000001' }] }] }] }),
    });
    assert.equal(res.status, 200);
    const until = Date.now() + 5000;
    while (!out.includes('GET /cli-check') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.match(out, /debug debug: traces: 1 spans/);
    assert.match(out, /span 4bf92f3577b34da6a3ce929d0e0e4736\/00f067aa0ba902b7 kind=2 "GET \/cli-check" 2\.000ms/);
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, err);
  assert.match(err, /SIGTERM: shutting down/);
});

test('--validate accepts the default pipeline and rejects a bad field with its path (exit 2)', () => {
  const ok = spawnSync(process.execPath, [bin, 'collector', '--validate'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /collector\.yaml: valid; pipelines: traces \[otlp\]/);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'receivers: { otlp: }\nprocessors: { batch/fast: { send_batch_size: ten } }\nexporters: { debug: }\nservice: { pipelines: { traces: { receivers: [otlp], processors: [batch/fast], exporters: [debug] } } }\n');
  const bad = spawnSync(process.execPath, [bin, 'collector', '--config', file], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /processors\.batch\/fast\.send_batch_size: must be a positive integer, got "ten"/);
  const missing = spawnSync(process.execPath, [bin, 'collector', '--config', join(dir, 'nope.yaml')], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /cannot read config file .*nope\.yaml/);
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.match(help.stdout, /sockeye collector/);
});
