// A start that fails ends: the real agent, its listen address taken or run as a user without
// permission, exits non-zero within 5 s with one line naming the real cause; a failure after the
// kernel programs attached detaches them all before startAgent gives up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { kernelAgentUnavailable, freePort } from './helpers/agent-child.js';
import { loadAgentConfig } from '../../agent/config/agent-config.js';
import { openKernelCapture, startAgent, type CaptureOpener } from '../../agent/agent.js';

const root = new URL('../../../', import.meta.url).pathname;
const skip = kernelAgentUnavailable();
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

/** Runs `sockeye agent` (optionally through setpriv); its exit code, stderr and how long it lived. */
async function runAgent(args: string[], setpriv?: string[]): Promise<{ code: number | null; stderr: string; ms: number }> {
  const cmd = [`${root}bin/sockeye.js`, 'agent', '--no-export', '--no-live', ...args];
  const started = Date.now();
  const proc = setpriv ? spawn('setpriv', [...setpriv, process.execPath, ...cmd], { stdio: ['ignore', 'ignore', 'pipe'] })
    : spawn(process.execPath, cmd, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const killer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
  const [code] = await once(proc, 'exit') as [number | null];
  clearTimeout(killer);
  return { code, stderr, ms: Date.now() - started };
}

/** Ids of sockeye BPF programs this process holds a descriptor of (its /proc/self/fdinfo). */
function heldSockeyePrograms(): number[] {
  const ids: number[] = [];
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info: string;
    try { info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'); } catch { continue; }
    const m = /^prog_id:\s*(\d+)$/m.exec(info);
    if (m) ids.push(Number(m[1]));
  }
  return [...new Set(ids)].filter((id) => {
    try { return /sockeye_/.test(execFileSync('bpftool', ['prog', 'show', 'id', String(id)], { encoding: 'utf8' })); } catch { return false; }
  });
}

test('listen address taken: exits non-zero within 5 s naming the address, before loading any program', { skip }, async () => {
  const port = await freePort();
  const holder = createServer().listen(port, '127.0.0.1');
  await once(holder, 'listening');
  try {
    const r = await runAgent(['--listen', `127.0.0.1:${port}`]);
    assert.notEqual(r.code, 0, r.stderr);
    assert.notEqual(r.code, null, 'ended by itself, not killed');
    assert.ok(r.ms < 5000, `exited after ${r.ms} ms`);
    assert.match(r.stderr, new RegExp(`cannot start: cannot listen on 127\\.0\\.0\\.1:${port}: the address is in use`));
    assert.doesNotMatch(r.stderr, /attached \d+ of/, 'nothing was attached');
  } finally {
    holder.close();
  }
});

test('a failure after the programs attached detaches every one of them and frees the listen address', { skip }, async () => {
  const cfg = loadAgentConfig({ env: {}, overrides: { listen: `127.0.0.1:${await freePort()}`, 'export.enabled': false, live_view: 'off',
    'conntrack.enabled': false } });
  let heldWhileOpen: number[] = [];
  // The real kernel capture, whose event hook then fails: the first step after the capture opened.
  const open: CaptureOpener = async (o) => {
    const c = await openKernelCapture(o);
    heldWhileOpen = heldSockeyePrograms();
    return { attachments: c.attachments, counters: () => c.counters(), close: () => c.close(),
      onEvents: () => { throw new Error('event hook refused'); } };
  };
  const lines: string[] = [];
  await assert.rejects(startAgent(cfg, (l) => lines.push(l), open), /event hook refused/);
  assert.ok(heldWhileOpen.length >= 4, `programs held while open: ${heldWhileOpen.length}`);
  assert.deepEqual(heldSockeyePrograms(), [], 'no sockeye program left attached');
  assert.ok(lines.includes('start failed: capture programs detached'), lines.join('\n'));
  const again = createServer().listen(Number(cfg.listen.split(':')[1]), '127.0.0.1');
  await once(again, 'listening'); // the listen address was released
  again.close();
});

test('run as an unprivileged user: one line naming permission, non-zero exit within 5 s', { skip }, async () => {
  const r = await runAgent(['--listen', `127.0.0.1:${await freePort()}`], NOBODY);
  assert.notEqual(r.code, 0);
  assert.notEqual(r.code, null, 'ended by itself, not killed');
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^sockeye agent: cannot start: permission denied: running as uid 65534 without CAP_BPF/);
});

test('unprivileged user granted CAP_BPF and CAP_PERFMON: tracefs is named as closed to it, not as missing', { skip }, async () => {
  const caps = ['--inh-caps=+bpf,+perfmon', '--ambient-caps=+bpf,+perfmon'];
  const r = await runAgent(['--listen', `127.0.0.1:${await freePort()}`], [...NOBODY, ...caps]);
  assert.notEqual(r.code, 0);
  assert.notEqual(r.code, null, 'ended by itself, not killed');
  assert.ok(r.ms < 5000, `exited after ${r.ms} ms`);
  assert.match(r.stderr, /cannot start: permission denied: uid 65534 may not read \/sys\/kernel\/tracing \(tracefs\)/);
  assert.doesNotMatch(r.stderr, /not mounted|missing tracefs/);
});
