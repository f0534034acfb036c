// A finished span built straight from a Transaction, shaped as the SDK's ReadableSpan so the
// span queue and the SDK's OTLP exporters take it as is. We build these ourselves because we need
// kernel start/end times and carried/linked ids, which Tracer.startSpan does not allow.
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type Link, type SpanContext, type SpanStatus, type TraceState } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';
import { SCHEMA_URL, SCOPE_NAME, SCOPE_VERSION } from '../../common/semconv/semconv.js';

export const SCOPE: InstrumentationScope = { name: SCOPE_NAME, version: SCOPE_VERSION, schemaUrl: SCHEMA_URL };
const NO_LINKS: Link[] = [];
const NO_EVENTS: TimedEvent[] = [];
const OK: SpanStatus = { code: SpanStatusCode.UNSET };

export class TxSpan implements ReadableSpan {
  traceId = '';
  spanId = '';
  parentSpanContext: SpanContext | undefined = undefined;
  /** The trace's sampling decision (agent/sampling), undefined until made; kept spans carry `ot=th` here. */
  sampled: boolean | undefined = undefined;
  traceState: TraceState | undefined = undefined;
  status: SpanStatus = OK;
  readonly links: Link[] = NO_LINKS;
  events: TimedEvent[] = NO_EVENTS;
  readonly ended = true;
  readonly instrumentationScope = SCOPE;
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  /** The span's own context fields, readable without spanContext()'s object (the encoder reads these). */
  readonly traceFlags = TraceFlags.SAMPLED;

  constructor(
    public name: string,
    readonly kind: SpanKind,
    readonly startTime: HrTime,
    readonly endTime: HrTime,
    readonly durationNs: number,
    readonly attributes: Attributes,
    readonly resource: Resource,
  ) {}

  spanContext(): SpanContext {
    return { traceId: this.traceId, spanId: this.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: false, traceState: this.traceState };
  }

  get duration(): HrTime {
    const s = Math.floor(this.durationNs / 1e9);
    return [s, this.durationNs - s * 1e9];
  }

  setError(errorType: string, message?: string): void {
    this.status = message ? { code: SpanStatusCode.ERROR, message } : { code: SpanStatusCode.ERROR };
    this.attributes['error.type'] = errorType;
  }

  /** Spans rarely carry events (a connection reset): the shared empty list is replaced on the first. */
  addEvent(name: string, time: HrTime, attributes: Attributes): void {
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, time, attributes, droppedAttributesCount: 0 });
  }

  setParent(traceId: string, parentSpanId: string): void {
    this.traceId = traceId;
    this.parentSpanContext = { traceId, spanId: parentSpanId, traceFlags: TraceFlags.SAMPLED, isRemote: true };
  }
}

export { SpanKind };
