// Layout drift: struct nh_record and its enums as the compiled BPF object's BTF has them, against
// the TypeScript constants the decoder reads (bpf/network-health.h vs tcp-event-layout.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { networkHealthObjectPath } from '../../agent/network-health/network-health-capture.js';
import { TCP_RECORD_ENUMS, TCP_RECORD_FIELDS, TCP_RECORD_SIZE } from '../../agent/network-health/tcp-event-layout.js';

interface BtfType {
  id: number; kind: string; name?: string; size?: number; type_id?: number; nr_elems?: number;
  members?: Array<{ name: string; type_id: number; bits_offset: number }>;
  values?: Array<{ name: string; val: number }>;
}

const skip = existsSync(networkHealthObjectPath) ? undefined : `${networkHealthObjectPath} is not built (make bpf)`;

function btf(): Map<number, BtfType> {
  const out = execFileSync('bpftool', ['btf', 'dump', 'file', networkHealthObjectPath, '-j'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return new Map((JSON.parse(out) as { types: BtfType[] }).types.map((t) => [t.id, t]));
}

function sizeOf(types: Map<number, BtfType>, id: number): number {
  const t = types.get(id)!;
  if (t.kind === 'ARRAY') return (t.nr_elems ?? 0) * sizeOf(types, t.type_id!);
  if (t.size !== undefined) return t.size;
  return sizeOf(types, t.type_id!);
}

test('struct nh_record: same members, offsets and sizes in BTF and TypeScript', { skip }, () => {
  const types = btf();
  const rec = [...types.values()].find((t) => t.kind === 'STRUCT' && t.name === 'nh_record');
  assert.ok(rec?.members, 'struct nh_record is in the object BTF');
  assert.equal(rec.size, TCP_RECORD_SIZE);
  const fromBtf = Object.fromEntries(rec.members.map((m) => {
    assert.equal(m.bits_offset % 8, 0, `${m.name} is byte aligned`);
    return [m.name, { offset: m.bits_offset / 8, size: sizeOf(types, m.type_id) }];
  }));
  assert.deepEqual(fromBtf, TCP_RECORD_FIELDS);
});

test('nh_record enums agree', { skip }, () => {
  const types = [...btf().values()];
  for (const [name, values] of Object.entries(TCP_RECORD_ENUMS)) {
    const e = types.find((t) => t.kind === 'ENUM' && t.name === name);
    assert.ok(e?.values, `enum ${name} is in the object BTF`);
    assert.deepEqual(Object.fromEntries(e.values.map((v) => [v.name, v.val])), values, `enum ${name}`);
  }
});
