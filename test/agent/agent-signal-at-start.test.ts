// `sockeye agent` told to stop while it is still loading its BPF programs (a rollout that deletes a
// pod just after it started): it must finish starting, then flush, detach and exit 0 — not die
// half-attached. Real agent process, real kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { kernelAgentUnavailable, freePort } from './helpers/agent-child.js';

const root = new URL('../../../', import.meta.url).pathname;
const skip = kernelAgentUnavailable();

test('SIGTERM during start-up: the agent still stops cleanly, exits 0, and says why the per-signal variable is unused', { skip }, async () => {
  const dir = mkdtempSync('/tmp/sockeye-agent-signal-');
  try {
    writeFileSync(`${dir}/agent.yaml`, [`listen: 127.0.0.1:${await freePort()}`, 'export:', '  enabled: false', 'live_view: off'].join('\n'));
    // The per-signal protocol variable makes the agent log a line right after its signal handlers
    // are in place and before the programs load: the moment to send the signal.
    const proc = spawn(process.execPath, [`${root}bin/sockeye.js`, 'agent', '--config', `${dir}/agent.yaml`],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf' } });
    let stderr = '';
    let sent = false;
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && stderr.includes('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL is not used')) { sent = true; proc.kill('SIGTERM'); }
    });
    const killer = setTimeout(() => proc.kill('SIGKILL'), 60_000);
    const [code, signal] = await once(proc, 'exit') as [number | null, string | null];
    clearTimeout(killer);
    assert.ok(sent, `the agent never logged the unused-variable line: ${stderr}`);
    assert.equal(signal, null, `killed by ${signal}: ${stderr}`);
    assert.equal(code, 0, stderr);
    // Before the fix the handlers were installed only after start-up: this signal killed the process.
    assert.match(stderr, /SIGTERM: flushing and detaching/);
    assert.match(stderr, /stopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
