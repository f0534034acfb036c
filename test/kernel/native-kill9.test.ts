// Nothing is pinned: when a process that loaded and attached BPF programs through the addon is
// killed with SIGKILL (no cleanup code runs), the kernel must drop every one of its programs and
// links. A child process loads the fixture (and sockeye's own capture object when it is built),
// reports its program ids, and is killed; bpftool must then list none of those ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fixtureObject, kernelSkipReason, repoRoot, sockeyeObject, waitFor } from './helpers/native-fixture-helpers.js';

const bpftool = ['/usr/sbin/bpftool', '/sbin/bpftool'].find((p) => existsSync(p)) ?? 'bpftool';
const skip = kernelSkipReason();

interface ChildReport { pid: number; programIds: number[]; attached: string[]; sockeye: string }

// The child: load, attach, report, then wait to be killed (it never calls close()).
const childSource = `
import { BpfObject } from ${JSON.stringify(`${repoRoot}dist/agent/capture/native-bpf.js`)};
const objects = [];
const fixture = BpfObject.load(${JSON.stringify(fixtureObject)}, { skipPrograms: ['sockeye_fixture_missing_tp'] });
objects.push(fixture);
let sockeye = 'not built';
if (${JSON.stringify(existsSync(sockeyeObject))}) {
  try {
    const obj = BpfObject.load(${JSON.stringify(sockeyeObject)});
    objects.push(obj);
    const results = obj.attachAll();
    sockeye = results.filter((r) => r.attached).length + ' of ' + results.length + ' attached';
  } catch (err) {
    sockeye = 'load failed: ' + err.message.split('\\n')[0];
  }
}
const attached = fixture.attachAll().filter((r) => r.attached).map((r) => r.program);
fixture.startRingBuffer('fixture_events', () => {});
const programIds = objects.flatMap((o) => o.programStats().map((s) => s.id));
console.log(JSON.stringify({ pid: process.pid, programIds, attached, sockeye }));
setInterval(() => {}, 1000);
`;

function liveProgramIds(): Set<number> {
  const progs = JSON.parse(execFileSync(bpftool, ['-j', 'prog', 'show'], { encoding: 'utf8' })) as Array<{ id: number }>;
  return new Set(progs.map((p) => p.id));
}

function linkedProgramIds(): Set<number> {
  const links = JSON.parse(execFileSync(bpftool, ['-j', 'link', 'show'], { encoding: 'utf8' })) as Array<{ prog_id?: number }>;
  return new Set(links.flatMap((l) => (l.prog_id === undefined ? [] : [l.prog_id])));
}

test('kill -9 of a process holding attached programs leaves none of them in the kernel', { skip, timeout: 60_000 }, async (t) => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', childSource], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });

  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([l]) => l as string),
    once(child, 'exit').then(() => { throw new Error(`child exited before reporting: ${stderr}`); }),
  ]);
  const report = JSON.parse(first) as ChildReport;
  t.diagnostic(`child ${report.pid}: ${report.programIds.length} programs; sockeye object: ${report.sockeye}`);
  assert.deepEqual(report.attached, ['sockeye_fixture_getppid']);
  assert.ok(report.programIds.length >= 1);

  // Before the kill the kernel lists every program, and the attached one has a link.
  const before = liveProgramIds();
  for (const id of report.programIds) assert.ok(before.has(id), `program ${id} is loaded while the child lives`);
  const linkedBefore = linkedProgramIds();
  assert.ok(report.programIds.some((id) => linkedBefore.has(id)), 'the fixture program is attached through a link');

  const killedAt = Date.now();
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.equal(child.signalCode, 'SIGKILL');

  // Program memory is freed asynchronously (RCU) once the last fd/link is gone: allow a moment.
  await waitFor(() => {
    const live = liveProgramIds();
    return report.programIds.every((id) => !live.has(id));
  }, 10_000, `programs ${report.programIds.join(', ')} to be unloaded`);
  t.diagnostic(`all ${report.programIds.length} programs gone ${Date.now() - killedAt} ms after SIGKILL`);
  const linkedAfter = linkedProgramIds();
  assert.ok(report.programIds.every((id) => !linkedAfter.has(id)), 'no link of the killed process remains');
});
