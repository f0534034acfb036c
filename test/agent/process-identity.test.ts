// `sockeye agent` on the real kernel naming processes as a user expects: a compiled client that
// makes one request from a named worker thread and exits within milliseconds, and Python servers
// whose handler threads rename themselves, one started before the agent and one after. No
// thread's name may become service.name or process.executable.name.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { once } from 'node:events';
import { OtlpTestReceiver, type FlatSpan } from '../signals/helpers/otlp-test-receiver.js';
import { AgentChild, freePort, kernelAgentUnavailable } from './helpers/agent-child.js';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';
const SERVER = 2;
const CLIENT = 3;
const THREAD_NAMES = ['qc-main', 'qc-worker', 'srv-worker'];
const skip = kernelAgentUnavailable();

let dir: string;
let rx: OtlpTestReceiver;
let agent: AgentChild;
let client: string; // the compiled quick client
const servers: ChildProcess[] = [];
let oldServer: { pid: number; port: number }; // started before the agent
let newServer: { pid: number; port: number }; // started after

async function startServer(script: string): Promise<{ pid: number; port: number }> {
  const port = await freePort();
  const p = spawn(PYTHON, [script, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.push(p);
  await new Promise<void>((resolve, reject) => {
    p.stdout!.once('data', () => resolve());
    p.once('exit', (c) => reject(new Error(`${script} exited ${c}`)));
  });
  return { pid: p.pid!, port };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync('/tmp/execpath-identity-');
  client = `${dir}/quick-client`;
  await run('gcc', ['-O1', '-pthread', '-o', client, `${root}test/agent/fixtures/quick-client.c`]);
  // The same server under two names, so each names its own service.
  await run('cp', [`${root}test/agent/fixtures/named-threads-server.py`, `${dir}/execpath_old_srv.py`]);
  await run('cp', [`${root}test/agent/fixtures/named-threads-server.py`, `${dir}/execpath_new_srv.py`]);
  oldServer = await startServer(`${dir}/execpath_old_srv.py`);
  rx = await OtlpTestReceiver.start();
  agent = await AgentChild.exportingTo(rx.grpcEndpoint, [
    'signals:',
    '  link_wait_ms: 300',
    'live_view: off',
  ]);
  newServer = await startServer(`${dir}/execpath_new_srv.py`);
});

after(async () => {
  if (skip) return;
  for (const s of servers) { s.kill('SIGTERM'); if (s.exitCode === null) await once(s, 'exit'); }
  await agent?.stop();
  await rx?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function spansOf(pid: number, kind: number, count: number): Promise<FlatSpan[]> {
  const mine = () => rx.spans().filter((s) => s.resource['process.pid'] === pid && s.kind === kind);
  await rx.waitFor(() => mine().length >= count, 15_000).catch(() => undefined);
  return mine();
}

function assertNoThreadName(s: FlatSpan): void {
  for (const key of ['service.name', 'process.executable.name']) {
    assert.ok(!THREAD_NAMES.includes(String(s.resource[key])), `${key} is a thread's name: ${String(s.resource[key])}`);
  }
}

test('the agent records executables at exec', { skip }, () => {
  assert.match(agent.stderr, /process executables from exec on/);
});

test('a client that exits within milliseconds of its request is named from its executable, not a thread', { skip }, async () => {
  // The agent is paused while the client runs (the kernel keeps capturing into the ring), so the
  // client is surely gone from /proc when the agent first sees it, as a 5 ms process on a busy node is.
  agent.proc.kill('SIGSTOP');
  let code: number;
  let pid = 0;
  let out = '';
  try {
    const child = spawn(client, [String(newServer.port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
    [code] = await once(child, 'close') as [number];
    pid = child.pid!;
  } finally { agent.proc.kill('SIGCONT'); }
  assert.equal(code, 0, `quick-client failed: ${out}`);
  // The kernel had these names for it: the process (main thread) and the worker that made the request.
  const [mainComm, workerComm] = out.trim().split(' ');
  assert.equal(mainComm, 'qc-main');
  assert.equal(workerComm, 'qc-worker');

  const [span] = await spansOf(pid, CLIENT, 1);
  assert.ok(span, 'the quick client\'s CLIENT span arrived');
  assert.equal(span.attributes['url.path'] ?? new URL(String(span.attributes['url.full'])).pathname, '/quick');
  assert.equal(span.resource['process.executable.path'], client);
  assert.equal(span.resource['process.executable.name'], 'quick-client');
  assert.equal(span.resource['service.name'], 'quick-client');
  assertNoThreadName(span);
  const gone = /^sockeye_process_named_from_exec_total (\d+)/m.exec(await agent.metrics());
  assert.ok(Number(gone?.[1]) >= 1, 'the client was gone from /proc: named from the kernel\'s exec record');
});

test('servers whose worker threads name themselves are named after the process, whether older or newer than the agent', { skip }, async () => {
  for (const s of [oldServer, newServer]) {
    for (let i = 0; i < 3; i++) {
      const { stdout } = await run('curl', ['-s', `http://127.0.0.1:${s.port}/item/${i}`]);
      assert.equal(stdout, 'srv-worker', 'the handler thread really had its own name');
    }
  }
  const oldSpans = await spansOf(oldServer.pid, SERVER, 3);
  const newSpans = await spansOf(newServer.pid, SERVER, 3);
  assert.ok(oldSpans.length >= 3 && newSpans.length >= 3, `server spans: ${oldSpans.length} old, ${newSpans.length} new`);
  for (const s of oldSpans) {
    assertNoThreadName(s);
    // Older than the agent: from /proc at first sight (the exe link resolves the python3 symlink).
    assert.equal(s.resource['service.name'], 'execpath_old_srv');
    assert.equal(s.resource['process.executable.path'], realpathSync(PYTHON));
  }
  for (const s of newSpans) {
    assertNoThreadName(s);
    // Exec'd after the agent started: the path it was exec'd with, recorded by the kernel.
    assert.equal(s.resource['service.name'], 'execpath_new_srv');
    assert.equal(s.resource['process.executable.path'], PYTHON);
    assert.equal(s.resource['process.executable.name'], 'python3');
  }
});
