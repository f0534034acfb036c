// Lifetime of a polling BpfObject: it must not be garbage-collected while it polls, polling keeps
// the process alive only when asked to, and a process that exits without close() exits cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { GETPPID_PROGRAM, fixtureObject, kernelSkipReason, repoRoot } from './helpers/native-fixture-helpers.js';

const skip = kernelSkipReason();
const addonModule = JSON.stringify(`${repoRoot}dist/agent/capture/native-bpf.js`);

// Run in a child with a timeout: an object that cannot be closed must not hang the test process.
test('an unreferenced BpfObject keeps polling: it is not collected until close()', { skip }, () => {
  const src = `
    import { BpfObject } from ${addonModule};
    let batches = 0;
    const weak = (() => {
      const obj = BpfObject.load(${JSON.stringify(fixtureObject)}, { rodata: { fixture_target_tgid: process.pid } });
      obj.attach(${JSON.stringify(GETPPID_PROGRAM)});
      // The callback does not reference obj: only the addon can keep it alive.
      obj.startRingBuffer('fixture_events', () => { batches++; });
      return new WeakRef(obj);
    })();
    for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setImmediate(r)); }
    for (let i = 0; i < 5; i++) process.ppid;
    const deadline = Date.now() + 3000;
    while (batches === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const obj = weak.deref();
    console.log(JSON.stringify({ batches, alive: obj !== undefined }));
    obj?.close();
  `;
  const res = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', src], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  assert.equal(res.status, 0, `child failed: ${res.stderr}`);
  const report = JSON.parse(res.stdout) as { batches: number; alive: boolean };
  assert.ok(report.batches > 0, 'batches still arrive after GC');
  assert.equal(report.alive, true, 'the polling object survived GC');
});

// A child process that loads, attaches and polls, then returns from its script without close().
function runChild(keepAlive: boolean | undefined): ReturnType<typeof spawnSync> {
  const opts = keepAlive === undefined ? '{}' : `{ keepAlive: ${keepAlive} }`;
  const src = `
    import { BpfObject } from ${addonModule};
    const obj = BpfObject.load(${JSON.stringify(fixtureObject)}, { skipPrograms: ['sockeye_fixture_missing_tp'] });
    obj.attachAll();
    obj.startRingBuffer('fixture_events', () => {}, ${opts});
    console.log('polling');
  `;
  return spawnSync(process.execPath, ['--input-type=module', '-e', src], { encoding: 'utf8', timeout: 3000, killSignal: 'SIGKILL' });
}

test('keepAlive: false lets the process exit on its own (the env cleanup hook releases everything)', { skip }, () => {
  const res = runChild(false);
  assert.equal(res.stdout, 'polling\n');
  assert.equal(res.signal, null, 'exited by itself, not killed by the timeout');
  assert.equal(res.status, 0, String(res.stderr));
});

test('by default polling keeps the process alive, like a listening server', { skip }, () => {
  const res = runChild(undefined);
  assert.equal(res.stdout, 'polling\n');
  assert.equal(res.signal, 'SIGKILL', 'still running when the 3 s timeout killed it');
});
