// Per-process resource detection from /proc, cached per pid. The same Resource object is reused
// for every span of a process so the OTLP transformer groups them under one ResourceSpans.
import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename } from 'node:path';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Attributes } from '@opentelemetry/api';
import type { ProcessInfo } from '../capture/capture-events.js';
import { SCHEMA_URL } from '../../common/semconv/semconv.js';
import { CgroupPathIndex } from './cgroup-path-index.js';
import type { ExecLookup } from '../process-exec/exec-table.js';

export interface ProcessIdentity {
  pid: number;
  serviceName: string;
  /** The Kubernetes pod, when the cgroup path shows one (also attributes['k8s.pod.uid']). */
  podUid?: string;
  attributes: Attributes;
  resource: Resource;
}

const INTERPRETERS = /^(node|nodejs|python[0-9.]*|ruby|perl|php|java|bash|sh|dash|deno|bun)$/;
/**
 * A cgroup directory named after a container: the bare 64-hex id (cgroupfs driver: containerd,
 * Docker under /docker/), or `<runtime>-<id>` with `.scope` under the systemd driver
 * (cri-containerd-, crio-, docker-, libpod-, nerdctl-) and without it for CRI-O's cgroupfs layout.
 */
const CONTAINER_DIR = /^(?:[a-z][a-z0-9]*(?:-[a-z][a-z0-9]*)*-)?([0-9a-f]{64})(?:\.scope)?$/;
/** conmon (CRI-O's monitor) sits beside the container, named after it, but is not in it. */
const NOT_IN_CONTAINER = /^crio-conmon-/;
/** A pod's directory: `pod<uid>` (cgroupfs) or `kubepods[-<qos>]-pod<uid with _>.slice` (systemd). */
const POD_DIR = /(?:^|-)pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?$/;

/** OTEL_SERVICE_NAME, else service.name inside OTEL_RESOURCE_ATTRIBUTES, from a NUL-separated environ. */
export function serviceNameFromEnviron(environ: string): string | undefined {
  let fromAttrs: string | undefined;
  for (const entry of environ.split('\0')) {
    if (entry.startsWith('OTEL_SERVICE_NAME=')) {
      const v = entry.slice('OTEL_SERVICE_NAME='.length).trim();
      if (v) return v;
    } else if (entry.startsWith('OTEL_RESOURCE_ATTRIBUTES=')) {
      for (const kv of entry.slice('OTEL_RESOURCE_ATTRIBUTES='.length).split(',')) {
        const [k, v] = kv.split('=');
        if (k?.trim() === 'service.name' && v?.trim()) {
          try { fromAttrs = decodeURIComponent(v.trim()); } catch { fromAttrs = v.trim(); }
        }
      }
    }
  }
  return fromAttrs;
}

/** A sensible service name: the script for interpreters (`node server.js` → `server`), else the executable. */
export function serviceNameFromCommand(exeName: string, argv: string[]): string {
  if (INTERPRETERS.test(exeName)) {
    // The first argument that looks like a script file; `-e CODE`, `-m module` and such are skipped.
    let script: string | undefined;
    for (let i = 1; i < argv.length; i++) {
      const a = argv[i]!;
      if (/^-(e|p|c|m|r|-eval|-print|-require|-import)$/.test(a)) { i++; continue; }
      if (a.startsWith('-')) continue;
      if (/^[\w@.\/-]+$/.test(a) && /[./]/.test(a)) script = a;
      break;
    }
    if (script) {
      const b = basename(script).replace(/\.(m?js|cjs|ts|py|rb|pl|php|jar|sh)$/, '');
      if (b && b !== 'index' && b !== 'main') return b;
    }
  }
  return exeName;
}

export interface CgroupIds {
  containerId?: string;
  podUid?: string;
}

/**
 * container.id and k8s.pod.uid from a /proc/<pid>/cgroup text, for every layout in use: cgroup v2
 * (`0::/path`) and v1 (one line per hierarchy: whichever names the container), systemd and cgroupfs
 * drivers, containerd, CRI-O, Docker and Podman. The path is read directory by directory and the
 * innermost container and pod win (nested runtimes: kind nodes, Docker in Docker; sub-cgroups a
 * container makes below its own directory are passed over).
 */
export function idsFromCgroup(text: string): CgroupIds {
  const out: CgroupIds = {};
  for (const line of text.split('\n')) {
    const ids = idsFromCgroupPath(line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1).trim());
    out.containerId ??= ids.containerId;
    out.podUid ??= ids.podUid;
  }
  if (out.containerId === undefined) delete out.containerId;
  if (out.podUid === undefined) delete out.podUid;
  return out;
}

/** The innermost container and pod directories of one cgroup path. */
export function idsFromCgroupPath(path: string): CgroupIds {
  const out: CgroupIds = {};
  for (const dir of path.split('/')) {
    const c = CONTAINER_DIR.exec(dir);
    if (c && !NOT_IN_CONTAINER.test(dir)) out.containerId = c[1];
    const p = POD_DIR.exec(dir);
    if (p) out.podUid = p[1]!.replace(/_/g, '-');
  }
  return out;
}

function readText(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

export class ProcessResources {
  // Keyed by pid only (thread names differ within a process); entries are re-detected after
  // `ttlMs` to notice exec or pid reuse, and identical attribute sets share one Resource object.
  private readonly cache = new Map<number, { expires: number; id: ProcessIdentity }>();
  private readonly interned = new Map<string, ProcessIdentity>();
  private readonly host = hostname();
  /** Processes whose /proc entries could not be read (gone or not permitted) and whose exec the kernel did not record: named from comm. */
  unreadable = 0;
  /** Processes gone from /proc (or not permitted) named from the executable the kernel recorded at their exec. */
  namedFromExec = 0;

  /**
   * execs: the executables the kernel recorded per tgid at exec (agent/process-exec); the
   * executable comes from there first, /proc adds the command line, environment and cgroup.
   */
  constructor(private readonly procRoot = '/proc', private readonly maxEntries = 8192, private readonly ttlMs = 30_000,
    readonly cgroups = new CgroupPathIndex(), private readonly execs?: ExecLookup) {}

  /**
   * atNs: boot-clock time of the event (so an exec record of an earlier process with this pid is not used);
   * now: wall time, read once per batch by the caller on the hot path.
   */
  get(proc: ProcessInfo, atNs?: number, now = Date.now()): ProcessIdentity {
    const hit = this.cache.get(proc.pid);
    if (hit && hit.expires > now) return hit.id;
    if (this.cache.size >= this.maxEntries) { this.cache.clear(); this.interned.clear(); } // rare; cheaper than LRU
    const fresh = this.detect(proc, atNs);
    if (hit && (fresh === undefined || fresh.gone)) { // gone since we identified it: keep what we knew
      hit.expires = now + this.ttlMs;
      return hit.id;
    }
    if (fresh === undefined) return this.fallback(proc, now);
    if (fresh.gone) this.namedFromExec++;
    return this.remember(proc.pid, fresh.id, now);
  }

  /** Identical attribute sets share one identity (and Resource). */
  private remember(pid: number, fresh: ProcessIdentity, now: number): ProcessIdentity {
    const key = JSON.stringify(fresh.attributes);
    let id = this.interned.get(key);
    if (!id) this.interned.set(key, (id = fresh));
    this.cache.set(pid, { expires: now + this.ttlMs, id });
    return id;
  }

  forget(pid: number): void {
    this.cache.delete(pid);
  }

  /**
   * Named from the kernel's comm when /proc has nothing (process gone or not permitted); counted.
   * Its container and pod still come from the cgroup id the event carried (cgroup v2).
   */
  private fallback(proc: ProcessInfo, now: number): ProcessIdentity {
    this.unreadable++;
    const attributes: Attributes = { 'service.name': proc.comm, 'process.pid': proc.pid, 'process.executable.name': proc.comm,
      'host.name': this.host, 'telemetry.sdk.name': 'sockeye', 'telemetry.sdk.language': 'nodejs' };
    const cg = this.cgroupIdsOfGone(proc);
    if (cg.containerId) attributes['container.id'] = cg.containerId;
    if (cg.podUid) attributes['k8s.pod.uid'] = cg.podUid;
    const key = JSON.stringify(attributes);
    let id = this.interned.get(key);
    if (!id) {
      id = { pid: proc.pid, serviceName: proc.comm, ...(cg.podUid ? { podUid: cg.podUid } : {}), attributes,
        resource: resourceFromAttributes(attributes, { schemaUrl: SCHEMA_URL }) };
      this.interned.set(key, id);
    }
    this.cache.set(proc.pid, { expires: now + this.ttlMs, id });
    return id;
  }

  /** A process gone from /proc: its container and pod from the cgroup id its event carried (cgroup v2). */
  private cgroupIdsOfGone(proc: ProcessInfo): CgroupIds {
    const path = this.cgroups.pathOf(proc.cgroupId);
    return path === undefined ? {} : idsFromCgroupPath(path);
  }

  /**
   * The executable from the kernel's exec record when there is one (never a thread's name), else
   * from /proc/<pid>/exe; /proc adds the command line, OTEL_SERVICE_NAME and the cgroup when the
   * process is still there (gone: it was not). undefined: neither source knows the process.
   */
  private detect(proc: ProcessInfo, atNs?: number): { id: ProcessIdentity; gone: boolean } | undefined {
    const dir = `${this.procRoot}/${proc.pid}`;
    const exec = this.execs?.lookup(proc.pid, atNs);
    let exeName = proc.comm;
    let exePath: string | undefined;
    if (exec?.filename) {
      exeName = basename(exec.filename);
      // Relative when exec'd as ./server: /proc/<pid>/exe (if still there) gives the full path.
      if (exec.filename.startsWith('/')) exePath = exec.filename;
    }
    if (exePath === undefined) {
      try {
        exePath = readlinkSync(`${dir}/exe`).replace(/ \(deleted\)$/, '');
        if (!exec?.filename) exeName = basename(exePath);
      } catch { /* gone or not permitted */ }
    }
    const cmdline = readText(`${dir}/cmdline`);
    // Empty: a zombie (exited, not yet reaped), whose /proc has nothing left to tell.
    const gone = !cmdline;
    if (gone && !exec?.filename) return undefined;
    const argv = cmdline ? cmdline.split('\0').filter((a) => a !== '') : [];
    const environ = gone ? undefined : readText(`${dir}/environ`);
    const serviceName = (environ && serviceNameFromEnviron(environ)) || serviceNameFromCommand(exeName, argv);
    const cgroupText = gone ? undefined : readText(`${dir}/cgroup`);
    const cg = cgroupText === undefined ? this.cgroupIdsOfGone(proc) : idsFromCgroup(cgroupText);
    const attributes: Attributes = {
      'service.name': serviceName,
      'process.pid': proc.pid,
      'process.executable.name': exeName,
      'host.name': this.host,
      'telemetry.sdk.name': 'sockeye',
      'telemetry.sdk.language': 'nodejs',
    };
    if (exePath) attributes['process.executable.path'] = exePath;
    if (argv.length) attributes['process.command'] = argv[0]!;
    if (cg.containerId) attributes['container.id'] = cg.containerId;
    if (cg.podUid) attributes['k8s.pod.uid'] = cg.podUid;
    const resource = resourceFromAttributes(attributes, { schemaUrl: SCHEMA_URL });
    return { id: { pid: proc.pid, serviceName, ...(cg.podUid ? { podUid: cg.podUid } : {}), attributes, resource }, gone };
  }
}
