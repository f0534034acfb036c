// The native libbpf addon on the real kernel: the fixture program (test/fixtures/bpf/) is loaded,
// configured and attached for real, and fired by this process's own getppid() calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BpfObject, enableBpfStats, forEachRecord, possibleCpus, sumPerCpuU64,
} from '../../agent/capture/native-bpf.js';
import {
  FIXTURE_RECORD_SIZE, GETPPID_PROGRAM, MISSING_TP_PROGRAM, NO_ECHO, callGetppid, fixtureObject,
  kernelSkipReason, parseFixtureRecord, rejectedObject, u32Key, u64Value, waitFor, type FixtureRecord,
} from './helpers/native-fixture-helpers.js';

const skip = kernelSkipReason();

/** Loads the fixture for this process only, runs fn, always closes. */
async function withFixture(rodata: Record<string, number | bigint | boolean>, fn: (obj: BpfObject) => Promise<void> | void,
  extra: { mapSizes?: Record<string, number>; skipPrograms?: string[] } = {}): Promise<void> {
  const obj = BpfObject.load(fixtureObject, { rodata: { fixture_target_tgid: process.pid, ...rodata }, ...extra });
  try {
    await fn(obj);
  } finally {
    obj.close();
  }
}

/** Starts the ring buffer and collects every record and every batch. */
function collect(obj: BpfObject, flushIntervalMs?: number): { records: FixtureRecord[]; batches: Buffer[]; lengths: number[] } {
  const out = { records: [] as FixtureRecord[], batches: [] as Buffer[], lengths: [] as number[] };
  obj.startRingBuffer('fixture_events', (batch) => {
    out.batches.push(batch);
    forEachRecord(batch, (r) => { out.lengths.push(r.length); out.records.push(parseFixtureRecord(r)); });
  }, flushIntervalMs === undefined ? {} : { flushIntervalMs });
  return out;
}

test('attachAll reports each program: the getppid tracepoint attaches, a missing tracepoint fails with ENOENT and why', { skip }, async () => {
  await withFixture({}, (obj) => {
    const results = obj.attachAll();
    assert.equal(results.length, 2);
    const ok = results.find((r) => r.program === GETPPID_PROGRAM);
    assert.deepEqual(ok, { program: GETPPID_PROGRAM, section: 'tracepoint/syscalls/sys_enter_getppid', attached: true });
    const bad = results.find((r) => r.program === MISSING_TP_PROGRAM);
    assert.equal(bad?.attached, false);
    assert.match(bad?.error ?? '', /^ENOENT \(No such file or directory\)/);
    assert.match(bad?.error ?? '', /sys_enter_sockeye_no_such_syscall/);
    // Attaching again is a no-op that still reports the state.
    assert.equal(obj.attachAll().find((r) => r.program === GETPPID_PROGRAM)?.attached, true);
    assert.deepEqual(obj.programs().map((p) => [p.name, p.loaded, p.attached]),
      [[GETPPID_PROGRAM, true, true], [MISSING_TP_PROGRAM, true, false]]);
  });
});

test('skipPrograms leaves a program unloaded and out of attachAll', { skip }, async () => {
  await withFixture({}, (obj) => {
    assert.deepEqual(obj.attachAll().map((r) => [r.program, r.attached]), [[GETPPID_PROGRAM, true]]);
    assert.equal(obj.programs().find((p) => p.name === MISSING_TP_PROGRAM)?.loaded, false);
    assert.throws(() => obj.attach(MISSING_TP_PROGRAM), /was not loaded \(skipPrograms\)/);
  }, { skipPrograms: [MISSING_TP_PROGRAM] });
});

test('records arrive in batches with the rodata tag, this pid, rising sequence and 8-byte framing', { skip }, async () => {
  const tag = 0x5eed_0000_0000_beefn;
  await withFixture({ fixture_tag: tag }, async (obj) => {
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj, 0); // no flush timer: only the kernel's wake-up through epoll can deliver
    callGetppid(200);
    await waitFor(() => got.records.length >= 200, 5000, '200 records');
    assert.equal(got.records.length, 200);
    assert.ok(got.lengths.every((l) => l === FIXTURE_RECORD_SIZE));
    for (const r of got.records) {
      assert.equal(r.tag, tag);
      assert.equal(r.tgid, process.pid);
      assert.equal(r.echo, NO_ECHO);
      assert.ok(r.tail.equals(Buffer.alloc(13, 0xab)));
    }
    for (let i = 1; i < got.records.length; i++) assert.ok(got.records[i]!.seq > got.records[i - 1]!.seq);
    // One JS call per batch, not per record: the 200 calls ran before the loop could poll.
    assert.ok(got.batches.length < 10, `expected few batches, got ${got.batches.length}`);
    const bytesPerRecord = 4 + Math.ceil(FIXTURE_RECORD_SIZE / 8) * 8;
    assert.equal(got.batches.reduce((n, b) => n + b.length, 0), 200 * bytesPerRecord);
    const stats = obj.ringBufferStats();
    assert.equal(stats?.records, 200);
    assert.equal(stats?.batches, got.batches.length);
    assert.ok((stats?.wakeups ?? 0) >= 1);
    assert.equal(stats?.timerDrains, 0);
  });
});

test('producers that skip the wake-up (BPF_RB_NO_WAKEUP) are drained by the flush timer', { skip }, async () => {
  await withFixture({ fixture_no_wakeup: true }, async (obj) => {
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj, 20);
    callGetppid(10);
    await waitFor(() => got.records.length >= 10, 5000, '10 records via the timer');
    assert.equal(got.records.length, 10);
    assert.ok((obj.ringBufferStats()?.timerDrains ?? 0) >= 1);
  });
});

test('pollNow drains synchronously, returns the record count, and onBatch errors reach its caller', { skip }, async () => {
  await withFixture({}, (obj) => {
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj);
    callGetppid(7);
    assert.equal(obj.pollNow(), 7);
    assert.equal(got.records.length, 7);
    assert.equal(obj.pollNow(), 0);
    obj.close();
    const again = BpfObject.load(fixtureObject, { rodata: { fixture_target_tgid: process.pid } });
    try {
      again.attach(GETPPID_PROGRAM);
      again.startRingBuffer('fixture_events', () => { throw new Error('consumer broke'); });
      callGetppid(1);
      assert.throws(() => again.pollNow(), /consumer broke/);
    } finally {
      again.close();
    }
  });
});

test('close() inside onBatch stops delivery safely; later calls say the object is closed', { skip }, async () => {
  const obj = BpfObject.load(fixtureObject, { rodata: { fixture_target_tgid: process.pid } });
  let calls = 0;
  try {
    obj.attach(GETPPID_PROGRAM);
    obj.startRingBuffer('fixture_events', () => { calls++; obj.close(); });
    callGetppid(5);
    await waitFor(() => calls > 0, 5000, 'the first batch');
    callGetppid(5);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(calls, 1);
    assert.throws(() => obj.mapLookup('fixture_kv', u32Key(1)), /fixture-getppid\.bpf\.o is closed/);
    assert.equal(obj.ringBufferStats(), undefined);
  } finally {
    obj.close();
    obj.close(); // idempotent
  }
});

test('per-CPU counter: one value per possible CPU, summing to the calls made', { skip }, async () => {
  await withFixture({}, async (obj) => {
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj);
    callGetppid(150);
    await waitFor(() => got.records.length >= 150, 5000, '150 records');
    const perCpu = obj.mapLookupPerCpu('fixture_hits', u32Key(0));
    assert.equal(perCpu.length, possibleCpus());
    assert.ok(perCpu.every((b) => b.length === 8));
    assert.equal(sumPerCpuU64(perCpu), 150n);
    assert.equal(sumPerCpuU64(obj.mapLookupPerCpu('fixture_hits', u32Key(1))), 0n); // no reserve failed
    // Writing one value sets it on every CPU.
    obj.mapUpdate('fixture_hits', u32Key(0), u64Value(3n));
    assert.equal(sumPerCpuU64(obj.mapLookupPerCpu('fixture_hits', u32Key(0))), 3n * BigInt(possibleCpus()));
  });
});

test('map update / lookup / delete, seen by the BPF program itself', { skip }, async () => {
  await withFixture({}, async (obj) => {
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj);
    assert.equal(obj.mapLookup('fixture_kv', u32Key(1)), undefined);
    obj.mapUpdate('fixture_kv', u32Key(1), u64Value(777n));
    assert.equal(obj.mapLookup('fixture_kv', u32Key(1))?.readBigUInt64LE(0), 777n);
    callGetppid(1);
    assert.equal(obj.mapDelete('fixture_kv', u32Key(1)), true);
    assert.equal(obj.mapDelete('fixture_kv', u32Key(1)), false);
    assert.equal(obj.mapLookup('fixture_kv', u32Key(1)), undefined);
    callGetppid(1);
    await waitFor(() => got.records.length >= 2, 5000, '2 records');
    assert.deepEqual(got.records.map((r) => r.echo), [777n, NO_ECHO]);
  });
});

test('programStats with BPF stats enabled: run count and run time of the fired program', { skip }, async () => {
  const disable = enableBpfStats();
  try {
    await withFixture({}, (obj) => {
      obj.attach(GETPPID_PROGRAM);
      callGetppid(50);
      const stats = obj.programStats();
      const fired = stats.find((s) => s.program === GETPPID_PROGRAM);
      assert.ok(fired && fired.id > 0);
      // run_cnt counts every getppid on the machine (the tgid filter runs inside the program).
      assert.ok(fired.runCount >= 50, `runCount ${fired.runCount}`);
      assert.ok(fired.runTimeNs > 0);
      assert.equal(stats.find((s) => s.program === MISSING_TP_PROGRAM)?.runCount, 0);
    });
  } finally {
    disable();
    disable();
  }
});

test('mapSizes resizes the ring buffer; a tiny ring under load counts every failed reserve', { skip }, async () => {
  await withFixture({}, (obj) => {
    assert.equal(obj.maps().find((m) => m.name === 'fixture_events')?.maxEntries, 4096);
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj, 0);
    callGetppid(1000); // nobody drains meanwhile: ~73 records fit in 4 KiB
    obj.pollNow();
    const failed = sumPerCpuU64(obj.mapLookupPerCpu('fixture_hits', u32Key(1)));
    assert.ok(failed > 0n, 'reserve failures are counted');
    assert.equal(BigInt(got.records.length) + failed, 1000n, 'every call is either delivered or counted');
  }, { mapSizes: { fixture_events: 4096 } });
});

test('a drain larger than the 1 MiB batch cap is split into several batches, losing and reordering nothing', { skip }, async () => {
  await withFixture({ fixture_no_wakeup: true }, (obj) => {
    obj.attach(GETPPID_PROGRAM);
    const got = collect(obj, 0);
    const calls = 30_000; // 30k × 52 framed bytes ≈ 1.5 MiB
    callGetppid(calls);
    assert.equal(obj.pollNow(), calls);
    assert.equal(got.records.length, calls);
    assert.ok(got.batches.length >= 2, `expected the cap to split the drain, got ${got.batches.length} batch(es)`);
    assert.ok(got.batches.every((b) => b.length <= (1 << 20) + 64), 'no batch exceeds the cap by more than one record');
    for (let i = 1; i < calls; i++) assert.equal(got.records[i]!.seq, got.records[i - 1]!.seq + 1n);
    assert.equal(sumPerCpuU64(obj.mapLookupPerCpu('fixture_hits', u32Key(1))), 0n);
  }, { mapSizes: { fixture_events: 4 << 20 } });
});

test('a program the verifier rejects: the load error carries libbpf\'s reason and the verifier log tail', { skip }, () => {
  assert.throws(() => BpfObject.load(rejectedObject), (err: Error) => {
    assert.match(err.message, /^cannot load BPF object '.*fixture-rejected\.bpf\.o': EACCES \(Permission denied\)/);
    assert.match(err.message, /BEGIN PROG LOAD LOG/);
    assert.match(err.message, /R0 invalid mem access 'map_value_or_null'/);
    return true;
  });
});

test('misuse and bad input give clear errors naming the thing', { skip }, async () => {
  assert.throws(() => BpfObject.load('/nonexistent/sockeye-missing.bpf.o'),
    /cannot open BPF object '\/nonexistent\/sockeye-missing\.bpf\.o': ENOENT/);
  assert.throws(() => BpfObject.load(fixtureObject, { rodata: { no_such_global: 1 } }),
    /no const volatile global named 'no_such_global'.*globals: fixture_tag, fixture_target_tgid, fixture_no_wakeup/);
  assert.throws(() => BpfObject.load(fixtureObject, { rodata: { fixture_no_wakeup: 256 } }),
    /rodata\.fixture_no_wakeup: 256 does not fit in 1 byte\(s\) unsigned/);
  assert.throws(() => BpfObject.load(fixtureObject, { rodata: { fixture_target_tgid: -1 } }), /fixture_target_tgid: -1 does not fit/);
  assert.throws(() => BpfObject.load(fixtureObject, { rodata: { fixture_tag: 1.5 } }), /fixture_tag: 1\.5 is not a safe integer/);
  assert.throws(() => BpfObject.load(fixtureObject, { mapSizes: { fixture_events: 5000 } }),
    /mapSizes\.fixture_events: a ring buffer's size must be a power of two >= 4096 bytes, got 5000/);
  assert.throws(() => BpfObject.load(fixtureObject, { mapSizes: { nope: 8 } }), /no BPF map named 'nope'.*maps: fixture_events/);
  assert.throws(() => BpfObject.load(fixtureObject, { skipPrograms: ['nope'] }), /no BPF program named 'nope'.*programs: sockeye_fixture_getppid/);
  assert.throws(() => BpfObject.load(fixtureObject, { rodataa: {} } as never), /OpenOptions\.rodataa: unknown option/);
  await withFixture({}, (obj) => {
    assert.throws(() => obj.mapLookup('fixture_kvv', u32Key(1)), /no BPF map named 'fixture_kvv'.*maps: fixture_events, fixture_kv, fixture_hits/);
    assert.throws(() => obj.mapLookup('fixture_kv', Buffer.alloc(2)), /mapLookup\(fixture_kv\): key is 2 bytes, expected 4/);
    assert.throws(() => obj.mapUpdate('fixture_kv', u32Key(1), Buffer.alloc(4)), /mapUpdate\(fixture_kv\): value is 4 bytes, expected 8/);
    assert.throws(() => obj.mapUpdate('fixture_hits', u32Key(0), Buffer.alloc(12)), /value is 12 bytes, expected 8 \(one value for all CPUs\)/);
    assert.throws(() => obj.mapLookup('fixture_events', u32Key(0)), /fixture_events.*ringbuf map has no elements/);
    assert.throws(() => obj.mapLookup('fixture_hits', u32Key(0)), /per-CPU map, use mapLookupPerCpu/);
    assert.throws(() => obj.mapLookupPerCpu('fixture_kv', u32Key(0)), /not a per-CPU map \(hash\)/);
    assert.throws(() => obj.mapUpdate('fixture_kv', 'x' as never, u64Value(1n)), /key must be a Buffer/);
    assert.throws(() => obj.attach('nope'), /no BPF program named 'nope'/);
    assert.throws(() => obj.pollNow(), /call startRingBuffer first/);
    assert.throws(() => obj.startRingBuffer('fixture_kv', () => {}), /'fixture_kv' is not a BPF_MAP_TYPE_RINGBUF/);
    assert.throws(() => obj.startRingBuffer('fixture_events', () => {}, { flushIntervalMs: -1 }), /flushIntervalMs/);
    obj.startRingBuffer('fixture_events', () => {});
    assert.throws(() => obj.startRingBuffer('fixture_events', () => {}), /already polling 'fixture_events'/);
  });
});
