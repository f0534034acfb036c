// What the kernel must offer before the capture object is loaded, checked up front so a user reads
// one line naming everything missing instead of a verifier log. Names are searched in the kernel's
// BTF (the object's kfuncs and map types are kernel functions there), not inferred from the version
// number: distributions backport.
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Tracepoints without which the capture misses the most common data path. */
export const ESSENTIAL_TRACEPOINTS = ['sys_enter_read', 'sys_exit_read', 'sys_enter_write', 'sys_exit_write'];

/** Kernel functions whose presence in BTF shows a feature the object uses, and what it is. */
const KERNEL_FEATURES: Array<[string, string]> = [
  ['bpf_ringbuf_reserve', 'BPF ring buffer (5.8+)'],
  ['bpf_task_storage_get', 'task-local storage (5.11+)'],
  ['bpf_rdonly_cast', 'the bpf_rdonly_cast kfunc (6.2+)'],
];

const TRACEFS_DIRS = ['sys/kernel/tracing', 'sys/kernel/debug/tracing'];

/** Readable, absent, or there but closed to this user (a missing file and a forbidden one are different fixes). */
function access(path: string): 'ok' | 'missing' | 'denied' {
  try {
    accessSync(path, constants.R_OK);
    return 'ok';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'missing';
  }
}

/** The tracefs events directory this user can read, or undefined. */
function tracefsEvents(root: string): string | undefined {
  return TRACEFS_DIRS.map((d) => join(root, d, 'events')).find((d) => access(d) === 'ok');
}

/** Kernel interfaces that are present but that this user may not read (tracefs is root-only, mode
 * 0700, on most distributions): a permission problem, never to be reported as a missing feature. */
export function kernelAccessDenied(root = '/'): string[] {
  const denied: string[] = [];
  if (access(join(root, 'sys/kernel/btf/vmlinux')) === 'denied') denied.push(join(root, 'sys/kernel/btf/vmlinux'));
  if (!tracefsEvents(root)) {
    const closed = TRACEFS_DIRS.map((d) => join(root, d)).find((d) => existsSync(d) && access(join(d, 'events')) === 'denied');
    if (closed) denied.push(`${closed} (tracefs)`);
  }
  return denied;
}

/** Everything missing, in words; empty when the kernel offers all the object needs. What exists but
 * is closed to this user is left to kernelAccessDenied. `root` lets tests point at a prepared tree. */
export function kernelPreflight(root = '/'): string[] {
  const missing: string[] = [];
  const btfPath = join(root, 'sys/kernel/btf/vmlinux');
  const btfAccess = access(btfPath);
  if (btfAccess === 'denied') {
    // reported by kernelAccessDenied
  } else if (btfAccess === 'missing') {
    missing.push('kernel BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF)');
  } else {
    const btf = readFileSync(btfPath);
    for (const [fn, what] of KERNEL_FEATURES) if (btf.indexOf(`\0${fn}\0`) < 0) missing.push(what);
  }
  const events = tracefsEvents(root);
  if (!events && kernelAccessDenied(root).some((d) => d.endsWith('(tracefs)'))) {
    // reported by kernelAccessDenied
  } else if (!events) {
    missing.push('tracefs (mount it: `mount -t tracefs tracefs /sys/kernel/tracing`; in a pod, mount the host\'s /sys/kernel/tracing)');
  } else {
    const absent = ESSENTIAL_TRACEPOINTS.filter((t) => !existsSync(join(events, 'syscalls', t)));
    if (absent.length > 0) missing.push(`tracepoints syscalls/${absent.join(', ')} (CONFIG_FTRACE_SYSCALLS)`);
  }
  return missing;
}
