// What memory_limiter's limit_percentage is a percentage of: the container's memory limit when the
// process runs under one (cgroup v2 memory.max, cgroup v1 memory.limit_in_bytes), else the host's
// memory. os.totalmem() is the node's memory even inside a pod, so a percentage of it would let a
// pod with `limits: memory: 1Gi` on a 64 GiB node be OOM-killed long before the limiter refuses.
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { posix } from 'node:path';

const MIB = 1024 * 1024;

export interface MemoryBase {
  bytes: number;
  /** The file the limit came from; undefined when the base is the host's memory. */
  file?: string;
  /** For logs: e.g. "cgroup v2 memory limit 1024 MiB (/sys/fs/cgroup/memory.max)". */
  description: string;
}

export interface CgroupPaths {
  /** Where the cgroup filesystems are mounted (default /sys/fs/cgroup). */
  root?: string;
  /** The process's cgroup membership (default /proc/self/cgroup). */
  selfCgroup?: string;
}

function read(file: string): string | undefined {
  try { return readFileSync(file, 'utf8').trim(); } catch { return undefined; }
}

/** The process's cgroup path per hierarchy: v2 ("0::/path") and v1 memory ("N:memory:/path"). */
function ownPaths(selfCgroup: string): { v2?: string; v1?: string } {
  const out: { v2?: string; v1?: string } = {};
  for (const line of (read(selfCgroup) ?? '').split('\n')) {
    // hierarchy-id:controllers:path
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === '0' && m[2] === '') out.v2 = m[3];
    else if (m[2]!.split(',').includes('memory')) out.v1 = m[3];
  }
  return out;
}

/** The cgroup's directory and each ancestor's up to the mount point: a parent's limit binds too. */
function levels(mount: string, path: string | undefined): string[] {
  const dirs = [mount];
  for (let p = path ?? '/'; p !== '/' && p !== '.' && p !== ''; p = posix.dirname(p)) dirs.push(posix.join(mount, p));
  return dirs;
}

/**
 * The base for limit_percentage: the smallest cgroup memory limit that applies to this process,
 * or the host's memory when there is none or it is not below the host's. Missing files mean no
 * limit (e.g. not in a container, or a hierarchy that is not mounted).
 * In a container the cgroup namespace (or bind mount) shows the container's own cgroup at the
 * root; without one, /proc/self/cgroup names the path, so both are read.
 */
export function memoryBase(paths: CgroupPaths = {}, hostTotal = totalmem()): MemoryBase {
  const root = paths.root ?? '/sys/fs/cgroup';
  const own = ownPaths(paths.selfCgroup ?? '/proc/self/cgroup');
  let best: { bytes: number; file: string; version: string } | undefined;
  const consider = (file: string, version: string, none: (raw: string) => boolean) => {
    const raw = read(file);
    if (raw === undefined || none(raw) || !/^\d+$/.test(raw)) return;
    const bytes = Number(raw);
    if (bytes > 0 && (!best || bytes < best.bytes)) best = { bytes, file, version };
  };
  // v2: "max" = no limit.
  for (const dir of levels(root, own.v2)) consider(posix.join(dir, 'memory.max'), 'v2', (r) => r === 'max');
  // v1: no limit is the largest page-aligned value (9223372036854771712 on x86_64), larger than any host.
  for (const dir of levels(posix.join(root, 'memory'), own.v1)) {
    consider(posix.join(dir, 'memory.limit_in_bytes'), 'v1', (r) => Number(r) >= 2 ** 62);
  }
  if (best && best.bytes < hostTotal) {
    return { bytes: best.bytes, file: best.file, description: `cgroup ${best.version} memory limit ${(best.bytes / MIB).toFixed(0)} MiB (${best.file})` };
  }
  return { bytes: hostTotal, description: `host memory ${(hostTotal / MIB).toFixed(0)} MiB (no lower cgroup memory limit)` };
}
