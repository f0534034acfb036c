// What the OTLP receiver rejects item by item (reported as partial success, not retried): spans
// whose trace or span id is not 16/8 bytes or is all zero (the spec says such ids are invalid and
// they would break pairing and trace lookups downstream), and metrics without a name.
import type { Traces, Metrics } from '../../pdata/types.js';

function validId(b: Uint8Array | undefined, len: number): boolean {
  if (!b || b.length !== len) return false;
  for (let i = 0; i < len; i++) if (b[i] !== 0) return true;
  return false;
}

/** Removes invalid spans in place; returns how many were removed and why (first reason). */
export function dropInvalidSpans(t: Traces): { rejected: number; reason: string } {
  let rejected = 0;
  let reason = '';
  for (const rs of t.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      let bad = false;
      for (const sp of ss.spans) if (!validId(sp.traceId, 16) || !validId(sp.spanId, 8)) { bad = true; break; }
      if (!bad) continue; // fast path: the common case allocates nothing
      ss.spans = ss.spans.filter((sp) => {
        const ok = validId(sp.traceId, 16) && validId(sp.spanId, 8);
        if (!ok) {
          rejected++;
          reason ||= !validId(sp.traceId, 16)
            ? `span "${sp.name}": trace_id must be 16 bytes and not all zero (got ${sp.traceId?.length ?? 0} bytes)`
            : `span "${sp.name}": span_id must be 8 bytes and not all zero (got ${sp.spanId?.length ?? 0} bytes)`;
        }
        return ok;
      });
    }
  }
  return { rejected, reason };
}

export function dropInvalidMetrics(m: Metrics): { rejected: number; reason: string } {
  let rejected = 0;
  let reason = '';
  for (const rm of m.resourceMetrics) {
    for (const sm of rm.scopeMetrics) {
      if (sm.metrics.every((x) => x.name)) continue;
      sm.metrics = sm.metrics.filter((x) => {
        if (x.name) return true;
        const d = x.gauge ?? x.sum ?? x.histogram ?? x.exponentialHistogram ?? x.summary;
        rejected += d ? d.dataPoints.length : 0;
        reason ||= 'metric without a name';
        return false;
      });
    }
  }
  return { rejected, reason };
}
