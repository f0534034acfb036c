// The one-line check of what the kernel offers: on this machine nothing is missing; on prepared
// trees lacking BTF, tracefs, a tracepoint or a kfunc, each absence is named.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESSENTIAL_TRACEPOINTS, kernelPreflight } from '../../agent/capture/kernel-preflight.js';

test('this kernel offers everything the capture object needs', () => {
  assert.deepEqual(kernelPreflight(), []);
});

test('each missing piece is named', () => {
  const root = mkdtempSync(join(tmpdir(), 'sockeye-preflight-'));
  try {
    assert.deepEqual(kernelPreflight(root).map((m) => m.split(' ')[0]), ['kernel', 'tracefs']);
    mkdirSync(join(root, 'sys/kernel/btf'), { recursive: true });
    // A BTF string table holding the ring buffer and task storage functions but no bpf_rdonly_cast (a 5.15-like kernel).
    writeFileSync(join(root, 'sys/kernel/btf/vmlinux'), '\0bpf_ringbuf_reserve\0bpf_task_storage_get\0');
    for (const t of ESSENTIAL_TRACEPOINTS.slice(1)) mkdirSync(join(root, 'sys/kernel/tracing/events/syscalls', t), { recursive: true });
    assert.deepEqual(kernelPreflight(root), [
      'the bpf_rdonly_cast kfunc (6.2+)',
      'tracepoints syscalls/sys_enter_read (CONFIG_FTRACE_SYSCALLS)',
    ]);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
