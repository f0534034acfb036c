// The exec table on the running kernel: real processes exec'd, forked, threaded and exited, read
// back through the agent's own lookup; and struct pe_entry as the object's BTF has it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { ExecTable, PE_ENTRY, PE_F_FORKED, PE_F_TRUNCATED, processExecObjectPath } from '../../agent/process-exec/exec-table.js';
import { isNativeAddonBuilt } from '../../agent/capture/native-bpf.js';
import { bootNs } from './boot-ns.js';

const skip = !existsSync(processExecObjectPath) ? `${processExecObjectPath} is not built (make bpf)`
  : !isNativeAddonBuilt() ? 'native addon not built' : process.getuid?.() !== 0 ? 'needs root to load BPF' : undefined;

interface BtfType { id: number; kind: string; name?: string; size?: number; type_id?: number; nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>; values?: Array<{ name: string; val: number }> }

test('struct pe_entry and enum pe_flag: the offsets the agent reads are the object\'s', { skip: existsSync(processExecObjectPath) ? undefined : 'not built' }, () => {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', processExecObjectPath, '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const types = (JSON.parse(out) as { types: BtfType[] }).types;
  const entry = types.find((t) => t.kind === 'STRUCT' && t.name === 'pe_entry');
  assert.ok(entry?.members);
  assert.equal(entry.size, PE_ENTRY.size);
  const off = Object.fromEntries(entry.members.map((m) => [m.name, m.bits_offset / 8]));
  assert.deepEqual(off, { start_ns: PE_ENTRY.startNs, exit_ns: PE_ENTRY.exitNs, flags: PE_ENTRY.flags, pad: PE_ENTRY.flags + 4, filename: PE_ENTRY.filename });
  const fname = types.find((t) => t.id === entry.members!.find((m) => m.name === 'filename')!.type_id);
  assert.equal(fname?.nr_elems, PE_ENTRY.filenameLen);
  const flags = types.find((t) => t.kind === 'ENUM' && t.name === 'pe_flag');
  assert.deepEqual(Object.fromEntries(flags!.values!.map((v) => [v.name, v.val])), { PE_F_TRUNCATED, PE_F_FORKED });
});

test('a process exec\'d after the table opened: its executable by tgid, still there after it exited, marked gone', { skip }, async () => {
  const table = ExecTable.open();
  try {
    assert.deepEqual(table.missing, [], 'exec, fork and exit programs all attach on this kernel');
    const child = spawn('/usr/bin/true');
    await once(child, 'exit');
    const pid = child.pid!;
    const during = table.lookup(pid, bootNs()); // its sockets close just after it is marked gone: still the process
    assert.deepEqual(during, { filename: '/usr/bin/true', forked: false });
    // An event long after that process exited belongs to another process that got its pid.
    assert.equal(table.lookup(pid, bootNs() + 5e9), undefined);
    assert.equal(table.counts.stale, 1);
    // An event from before the exec (the pre-exec image) is not this executable either.
    assert.equal(table.lookup(pid, 1), undefined);
  } finally { table.close(); }
});

test('a forked child inherits its parent\'s executable; a thread makes no entry', { skip }, async () => {
  const table = ExecTable.open();
  try {
    // python3 forks one child and starts one thread, prints both ids, and waits to be read.
    const script = `import os, threading, sys, time
pid = os.fork()
if pid == 0:
    time.sleep(2); os._exit(0)
t = threading.Thread(target=lambda: (print(threading.get_native_id(), flush=True), time.sleep(2)))
print(pid, flush=True); t.start(); t.join(); os.waitpid(pid, 0)`;
    const py = spawn('/usr/bin/python3', ['-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    py.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    while (out.split('\n').length < 3) await new Promise((r) => setTimeout(r, 20));
    const [childPid, threadId] = out.trim().split('\n').map(Number);
    const parent = table.lookup(py.pid!);
    assert.equal(parent?.filename, '/usr/bin/python3');
    assert.deepEqual(table.lookup(childPid!), { filename: '/usr/bin/python3', forked: true });
    assert.equal(table.lookup(threadId!), undefined, 'a thread id is not a process');
    await once(py, 'exit');
  } finally { table.close(); }
});
