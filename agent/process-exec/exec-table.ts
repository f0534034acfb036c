// Loads bpf/process-exec.bpf.o (its own object, beside the syscall capture) and reads the
// executable it recorded for a process at exec (or inherited at fork). Looked up once per process
// the agent sees, not per event: the signal pipeline caches the identity it builds from it.
import { fileURLToPath } from 'node:url';
import { BpfObject, type AttachResult, type ProgramStats } from '../capture/native-bpf.js';

export const processExecObjectPath: string = process.env.SOCKEYE_PROCESS_EXEC_OBJECT
  ?? fileURLToPath(new URL('../../../build/bpf/process-exec.bpf.o', import.meta.url));

/** struct pe_entry (bpf/process-exec.h); offsets checked against the object's BTF by the tests. */
export const PE_ENTRY = { size: 280, startNs: 0, exitNs: 8, flags: 16, filename: 24, filenameLen: 256 } as const;
const FORK_PROGRAM = 'pe_fork';
export const PE_F_TRUNCATED = 1;
export const PE_F_FORKED = 2;

/** What the kernel recorded of one process's executable. */
export interface ExecRecord {
  /** As given to execve (absolute when found through PATH); undefined when it was cut at 255 bytes. */
  filename?: string;
  /** Inherited from the parent at fork (the process has not exec'd since). */
  forked: boolean;
}

/** What the process identity code needs: the executable of a tgid as of a boot-clock time. */
export interface ExecLookup {
  lookup(tgid: number, atNs?: number): ExecRecord | undefined;
}

export interface ExecTableCounters {
  lookups: number;
  hits: number;
  /** An entry of an earlier process with the same pid (it exited before the event). */
  stale: number;
  truncated: number;
}

/**
 * The kernel marks a process gone before it closes its files: the closes of its sockets come just
 * after exit_ns. A later pid reuse within this time would need the pid space to wrap.
 */
export const EXIT_GRACE_NS = 1e9;

export function decodeExecEntry(v: Buffer, atNs?: number): ExecRecord | 'stale' | 'truncated' {
  const startNs = Number(v.readBigUInt64LE(PE_ENTRY.startNs));
  const exitNs = Number(v.readBigUInt64LE(PE_ENTRY.exitNs));
  // An event before this exec/fork, or well after this process exited, belongs to another image.
  if (atNs !== undefined && (atNs < startNs || (exitNs !== 0 && atNs > exitNs + EXIT_GRACE_NS))) return 'stale';
  const flags = v.readUInt32LE(PE_ENTRY.flags);
  if (flags & PE_F_TRUNCATED) return 'truncated';
  const end = v.indexOf(0, PE_ENTRY.filename);
  const filename = v.toString('utf8', PE_ENTRY.filename, end < 0 ? PE_ENTRY.filename + PE_ENTRY.filenameLen : end);
  return { filename: filename || undefined, forked: (flags & PE_F_FORKED) !== 0 };
}

export class ExecTable implements ExecLookup {
  private readonly key = Buffer.alloc(4);
  readonly counts: ExecTableCounters = { lookups: 0, hits: 0, stale: 0, truncated: 0 };

  private constructor(private readonly obj: BpfObject, readonly attachments: AttachResult[], private readonly skipped: string[]) {}

  /**
   * Throws (with the kernel's reason) when the exec program cannot load or attach. A kernel that
   * cannot load the fork program (tp_btf needs kernel BTF) runs without fork inheritance.
   */
  static open(objectPath = processExecObjectPath): ExecTable {
    const skipped: string[] = [];
    let obj: BpfObject;
    try {
      obj = BpfObject.load(objectPath);
    } catch (first) {
      obj = BpfObject.load(objectPath, { skipPrograms: [FORK_PROGRAM] });
      skipped.push(`${FORK_PROGRAM} (forked processes named from /proc; did not load: ${String((first as Error)?.message ?? first).split('\n')[0]})`);
    }
    const attachments = obj.attachAll();
    const exec = attachments.find((a) => a.program === 'pe_exec');
    if (!exec?.attached) {
      obj.close();
      throw new Error(`cannot attach pe_exec (tp/sched/sched_process_exec): ${exec?.error ?? 'not loaded'}`);
    }
    return new ExecTable(obj, attachments, skipped);
  }

  /** Programs that did not load or attach (fork inheritance, exit marking), with the kernel's reason. */
  get missing(): string[] {
    return [...this.skipped, ...this.attachments.filter((a) => !a.attached).map((a) => `${a.program} (${a.section}): ${a.error ?? 'not attached'}`)];
  }

  /** atNs: boot-clock time of the event being identified (an entry of another process with this pid is not used). */
  lookup(tgid: number, atNs?: number): ExecRecord | undefined {
    this.counts.lookups++;
    this.key.writeUInt32LE(tgid >>> 0);
    const v = this.obj.mapLookup('pe_procs', this.key);
    if (!v) return undefined;
    const r = decodeExecEntry(v, atNs);
    if (r === 'stale') { this.counts.stale++; return undefined; }
    if (r === 'truncated') { this.counts.truncated++; return undefined; }
    this.counts.hits++;
    return r;
  }

  programStats(): ProgramStats[] { return this.obj.programStats(); }

  close(): void { this.obj.close(); }
}
