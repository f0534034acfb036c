// Shared by the native addon's kernel tests: where the fixture objects are, how to read a fixture
// record, and how to make the fixture program fire (getppid from this process).
import { fileURLToPath } from 'node:url';

/** Repo root, from dist/test/kernel/ (compiled) — the fixtures are built to build/test-bpf/. */
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const fixtureObject = `${repoRoot}build/test-bpf/fixture-getppid.bpf.o`;
export const rejectedObject = `${repoRoot}build/test-bpf/fixture-rejected.bpf.o`;
export const sockeyeObject = `${repoRoot}build/bpf/sockeye.bpf.o`;

export const GETPPID_PROGRAM = 'sockeye_fixture_getppid';
export const MISSING_TP_PROGRAM = 'sockeye_fixture_missing_tp';
/** struct fixture_record (packed): see test/fixtures/bpf/fixture-getppid.bpf.c. */
export const FIXTURE_RECORD_SIZE = 45;
export const NO_ECHO = 0xffff_ffff_ffff_ffffn;

export interface FixtureRecord { seq: bigint; tag: bigint; echo: bigint; tgid: number; cpu: number; tail: Buffer }

export function parseFixtureRecord(r: Buffer): FixtureRecord {
  return {
    seq: r.readBigUInt64LE(0),
    tag: r.readBigUInt64LE(8),
    echo: r.readBigUInt64LE(16),
    tgid: r.readUInt32LE(24),
    cpu: r.readUInt32LE(28),
    tail: r.subarray(32),
  };
}

/** Each read of process.ppid is one getppid(2) (libuv does not cache it). */
export function callGetppid(times: number): void {
  let sink = 0;
  for (let i = 0; i < times; i++) sink += process.ppid;
  if (sink === -1) throw new Error('unreachable');
}

export function u32Key(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

export function u64Value(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Why a kernel test cannot run here, or undefined when it can. */
export function kernelSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  return undefined;
}
