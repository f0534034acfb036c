// Layout drift: the compiled BPF object's BTF (what the kernel writes) against the TypeScript
// constants (what the decoder reads). Fails if bpf/event-layout.h or agent/capture/event-layout.ts
// changes alone: member names, offsets, sizes, the struct size, and every enum value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { defaultObjectPath } from '../../agent/capture/kernel-capture.js';
import { EVENT_ENUMS, EVENT_FIELDS, EVENT_HEADER_SIZE } from '../../agent/capture/event-layout.js';

interface BtfType {
  id: number; kind: string; name?: string; size?: number; type_id?: number; nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
  values?: Array<{ name: string; val: number }>;
}

function loadBtf(): Map<number, BtfType> {
  assert.ok(existsSync(defaultObjectPath), `${defaultObjectPath} exists (make bpf)`);
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', defaultObjectPath, '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const types = (JSON.parse(out) as { types: BtfType[] }).types;
  return new Map(types.map((t) => [t.id, t]));
}

/** Byte size of a BTF type, following typedefs/modifiers and arrays. */
function sizeOf(btf: Map<number, BtfType>, id: number): number {
  const t = btf.get(id);
  assert.ok(t, `BTF type ${id}`);
  if (t.kind === 'ARRAY') return (t.nr_elems ?? 0) * sizeOf(btf, t.type_id!);
  if (t.size !== undefined) return t.size;
  if (t.type_id !== undefined) return sizeOf(btf, t.type_id);
  throw new Error(`no size for BTF ${t.kind} ${t.name ?? ''}`);
}

test('struct sockeye_event: same members, offsets and sizes in BTF and TypeScript', () => {
  const btf = loadBtf();
  const ev = [...btf.values()].find((t) => t.kind === 'STRUCT' && t.name === 'sockeye_event');
  assert.ok(ev?.members, 'struct sockeye_event is in the object BTF');
  assert.equal(ev.size, EVENT_HEADER_SIZE, 'sizeof(struct sockeye_event) = EVENT_HEADER_SIZE');
  const fromBtf = Object.fromEntries(ev.members.map((m) => {
    assert.equal(m.bits_offset % 8, 0, `${m.name} is byte aligned (no bitfields)`);
    return [m.name, { offset: m.bits_offset / 8, size: sizeOf(btf, m.type_id) }];
  }));
  assert.deepEqual(fromBtf, EVENT_FIELDS);
});

test('enums: kinds, roles, protocols, directions, syscalls and counters agree', () => {
  const btf = loadBtf();
  for (const [name, values] of Object.entries(EVENT_ENUMS)) {
    const e = [...btf.values()].find((t) => t.kind === 'ENUM' && t.name === name);
    assert.ok(e?.values, `enum ${name} is in the object BTF`);
    assert.deepEqual(Object.fromEntries(e.values.map((v) => [v.name, v.val])), values, `enum ${name}`);
  }
});
