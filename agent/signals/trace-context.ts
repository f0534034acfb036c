// W3C trace context: parsing traceparent and making ids.
import { randomFillSync } from 'node:crypto';

export interface CarriedContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/** Returns undefined for anything not a valid traceparent (bad version, all-zero ids, ...). */
export function parseTraceparent(value: string | undefined): CarriedContext | undefined {
  if (!value) return undefined;
  const m = TRACEPARENT.exec(value.trim().toLowerCase());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

// Ids come from a pooled random buffer: one crypto call per 4 KiB instead of one per id.
const pool = Buffer.alloc(4096);
let poolPos = pool.length;

function randomHex(bytes: number): string {
  for (;;) {
    if (poolPos + bytes > pool.length) {
      randomFillSync(pool);
      poolPos = 0;
    }
    const hex = pool.toString('hex', poolPos, poolPos + bytes);
    poolPos += bytes;
    if (!/^0+$/.test(hex)) return hex;
  }
}

export const newTraceId = (): string => randomHex(16);
export const newSpanId = (): string => randomHex(8);
