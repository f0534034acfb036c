// The OpenTelemetry member of a W3C `tracestate` (`ot=th:…;rv:…`, spec trace/tracestate-handling.md):
// read from a request's header, and written back with our threshold. The `ot` member goes first
// (W3C: a member a participant modifies moves to the front); other sub-keys of `ot` and other
// vendors' members are kept as they came. Input is from the wire, so it is bounded and never throws:
// a header over 512 characters keeps only our `ot` member, a malformed `th` or `rv` is ignored.
import type { TraceState } from '@opentelemetry/api';
import { TraceState as CoreTraceState } from '@opentelemetry/core';
import { formatTh, parseRv, parseTh, type Threshold } from './threshold.js';

/** W3C: a tracestate longer than this may be cut; we drop the foreign members whole instead. */
const MAX_TRACESTATE = 512;
/** tracestate-handling: the `ot` value is at most 256 characters. */
const MAX_OT = 256;

export interface IncomingOtState {
  /** The upstream rejection threshold (`th`), when present and well formed. */
  th?: Threshold;
  /** Explicit randomness (`rv`, 14 hex digits), when present and well formed. */
  rv?: string;
  /** The `ot` sub-keys other than `th`, in order (`rv:…;x:…`), '' when none. */
  otRest: string;
  /** The other members, comma-joined as they came, '' when none. */
  others: string;
}

/** The `ot` parts of a tracestate header; undefined when there is no header. */
export function parseTracestate(header: string | undefined): IncomingOtState | undefined {
  if (header === undefined) return undefined;
  const out: IncomingOtState = { otRest: '', others: '' };
  const others: string[] = [];
  for (const raw of header.split(',')) {
    const m = raw.trim();
    if (m === '') continue;
    if (m.startsWith('ot=')) readOt(m.slice(3), out);
    else others.push(m);
  }
  const joined = others.join(',');
  if (joined.length + MAX_OT + 1 <= MAX_TRACESTATE) out.others = joined;
  return out;
}

function readOt(value: string, out: IncomingOtState): void {
  if (value.length > MAX_OT) return;
  const rest: string[] = [];
  for (const sub of value.split(';')) {
    const c = sub.indexOf(':');
    if (c <= 0) continue;
    const key = sub.slice(0, c);
    const v = sub.slice(c + 1);
    if (key === 'th') out.th = parseTh(v);
    else {
      if (key === 'rv') out.rv = parseRv(v);
      if (/^[a-z][a-z0-9]*:[A-Za-z0-9._-]*$/.test(sub)) rest.push(sub);
    }
  }
  out.otRest = rest.join(';');
}

/** The tracestate text of a kept span: `ot=th:<hex>` plus what came in beside it. */
export function formatTracestate(t: Threshold, incoming?: IncomingOtState): string {
  let ot = `th:${formatTh(t)}`;
  if (incoming?.otRest) ot += `;${incoming.otRest}`;
  return incoming?.others ? `ot=${ot},${incoming.others}` : `ot=${ot}`;
}

/**
 * The span's TraceState: serialized once when the decision is made (the encoder asks for it per
 * span). The rarely used set/unset/get go through the SDK's own TraceState.
 */
export class SpanTraceState implements TraceState {
  constructor(readonly text: string) {}
  serialize(): string { return this.text; }
  get(key: string): string | undefined { return new CoreTraceState(this.text).get(key); }
  set(key: string, value: string): TraceState { return new CoreTraceState(this.text).set(key, value); }
  unset(key: string): TraceState { return new CoreTraceState(this.text).unset(key); }
}
