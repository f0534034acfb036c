// One sampling decision per trace, made from the trace's own randomness so that every span of the
// trace decides alike wherever it is decided: keep when R >= T (OpenTelemetry consistent probability
// sampling). T is the agent's threshold (0 — keep all — unless the CPU budget controller or the
// config raised it). A request that arrived with `ot=th` in its tracestate keeps that threshold
// (parent-based), raised to ours when ours is higher, never lowered. Every kept span carries its
// threshold in tracestate (`ot=th:…`), so its adjusted count is 1/probability.
import type { TraceState } from '@opentelemetry/api';
import { formatTracestate, SpanTraceState, type IncomingOtState } from './ot-tracestate.js';
import { ALWAYS_SAMPLE, keeps, thresholdKey, thresholdToProbability, traceIdRandomness, type Threshold } from './threshold.js';

/** Why a span was not kept: the agent's threshold (from the CPU budget, or configured), or the upstream's. */
export type SampledOutReason = 'cpu_budget' | 'configured' | 'parent';
/** Where the agent's own threshold comes from. */
export type ThresholdSource = 'cpu_budget' | 'configured';

/** What the sampler reads and writes on a span (TxSpan has these fields). */
export interface DecidableSpan {
  traceId: string;
  /** Undefined until decided; a span that inherited its trace's decision arrives decided. */
  sampled: boolean | undefined;
  traceState: TraceState | undefined;
}

export class ConsistentSampler {
  private t: Threshold = ALWAYS_SAMPLE;
  private key = thresholdKey(ALWAYS_SAMPLE);
  private shared = new SpanTraceState(formatTracestate(ALWAYS_SAMPLE));
  private src: ThresholdSource = 'cpu_budget';
  readonly sampledOut: Record<SampledOutReason, number> = { cpu_budget: 0, configured: 0, parent: 0 };
  /** Incoming thresholds dropped because the sampled flag contradicted them (R < th yet sampled). */
  inconsistentErased = 0;

  get threshold(): Threshold { return this.t; }
  get probability(): number { return thresholdToProbability(this.t); }
  get source(): ThresholdSource { return this.src; }

  setThreshold(t: Threshold, source: ThresholdSource): void {
    this.src = source;
    if (t === this.t) return;
    this.t = t;
    this.key = thresholdKey(t);
    this.shared = new SpanTraceState(formatTracestate(t));
  }

  /**
   * Decides `span` once (a decided span keeps its decision) and returns whether it is kept.
   * `incoming` and `parentSampled` come from the request's tracestate and traceparent, if any.
   */
  decide(span: DecidableSpan, incoming?: IncomingOtState, parentSampled?: boolean): boolean {
    if (span.sampled !== undefined) {
      // Inherited from the other side of a same-node call (never a carried trace: no parent reason).
      if (!span.sampled) this.sampledOut[this.src]++;
      return span.sampled;
    }
    const r = incoming?.rv ?? traceIdRandomness(span.traceId);
    let t = this.t;
    let key = this.key;
    let reason: SampledOutReason = this.src;
    let th = incoming?.th;
    // A sampled parent whose randomness is below its own threshold is inconsistent: erase it (spec).
    if (th !== undefined && parentSampled === true && !keeps(r, thresholdKey(th))) { this.inconsistentErased++; th = undefined; }
    if (th !== undefined && th > t) { t = th; key = thresholdKey(th); reason = 'parent'; }
    const kept = keeps(r, key);
    span.sampled = kept;
    if (!kept) { this.sampledOut[reason]++; return false; }
    const own = t === this.t && !incoming?.otRest && !incoming?.others;
    span.traceState = own ? this.shared : new SpanTraceState(formatTracestate(t, incoming));
    return true;
  }

  /** Spans not kept, over all reasons. */
  get sampledOutTotal(): number {
    return this.sampledOut.cpu_budget + this.sampledOut.configured + this.sampledOut.parent;
  }
}
