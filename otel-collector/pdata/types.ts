// Decoded OTLP ("pdata") as the pipeline passes it around: the shapes protobufjs decodes into and
// encodes from, lowerCamelCase. Decoded messages carry defaults for absent fields (""/0/[]), so a
// consumer can read any field; objects a component builds itself may leave optional fields out.
// 64-bit integers decode as Long-like {low, high}; use ./int64.ts to read or make them.

/** A 64-bit integer as protobufjs accepts it: Long-like bits, a safe number, or a decimal string. */
export type Int64 = LongLike | number | string;
export interface LongLike { low: number; high: number; unsigned?: boolean }

export interface AnyValue {
  stringValue?: string | null;
  boolValue?: boolean | null;
  intValue?: Int64 | null;
  doubleValue?: number | null;
  arrayValue?: { values: AnyValue[] } | null;
  kvlistValue?: { values: KeyValue[] } | null;
  bytesValue?: Uint8Array | null;
}
export interface KeyValue { key: string; value?: AnyValue | null }
export interface InstrumentationScope {
  name?: string; version?: string; attributes?: KeyValue[]; droppedAttributesCount?: number;
}
export interface Resource { attributes: KeyValue[]; droppedAttributesCount?: number }

export enum SpanKind { UNSPECIFIED = 0, INTERNAL = 1, SERVER = 2, CLIENT = 3, PRODUCER = 4, CONSUMER = 5 }
export enum StatusCode { UNSET = 0, OK = 1, ERROR = 2 }

export interface SpanEvent { timeUnixNano: Int64; name: string; attributes?: KeyValue[]; droppedAttributesCount?: number }
export interface SpanLink {
  traceId: Uint8Array; spanId: Uint8Array; traceState?: string; attributes?: KeyValue[];
  droppedAttributesCount?: number; flags?: number;
}
export interface Span {
  traceId: Uint8Array;
  spanId: Uint8Array;
  traceState?: string;
  parentSpanId?: Uint8Array;
  flags?: number;
  name: string;
  kind: SpanKind;
  startTimeUnixNano: Int64;
  endTimeUnixNano: Int64;
  attributes: KeyValue[];
  droppedAttributesCount?: number;
  events?: SpanEvent[];
  droppedEventsCount?: number;
  links?: SpanLink[];
  droppedLinksCount?: number;
  status?: { message?: string; code?: StatusCode } | null;
}
export interface ScopeSpans { scope?: InstrumentationScope | null; spans: Span[]; schemaUrl?: string }
export interface ResourceSpans { resource?: Resource | null; scopeSpans: ScopeSpans[]; schemaUrl?: string }

export enum AggregationTemporality { UNSPECIFIED = 0, DELTA = 1, CUMULATIVE = 2 }
export interface Exemplar {
  filteredAttributes?: KeyValue[]; timeUnixNano: Int64; asDouble?: number | null; asInt?: Int64 | null;
  spanId?: Uint8Array; traceId?: Uint8Array;
}
export interface NumberDataPoint {
  attributes: KeyValue[]; startTimeUnixNano?: Int64; timeUnixNano: Int64;
  asDouble?: number | null; asInt?: Int64 | null; exemplars?: Exemplar[]; flags?: number;
}
export interface HistogramDataPoint {
  attributes: KeyValue[]; startTimeUnixNano?: Int64; timeUnixNano: Int64; count: Int64;
  sum?: number | null; bucketCounts: Int64[]; explicitBounds: number[]; exemplars?: Exemplar[];
  flags?: number; min?: number | null; max?: number | null;
}
export interface ExponentialHistogramDataPoint {
  attributes: KeyValue[]; startTimeUnixNano?: Int64; timeUnixNano: Int64; count: Int64; sum?: number | null;
  scale: number; zeroCount: Int64; positive?: { offset: number; bucketCounts: Int64[] } | null;
  negative?: { offset: number; bucketCounts: Int64[] } | null; flags?: number; exemplars?: Exemplar[];
  min?: number | null; max?: number | null; zeroThreshold?: number;
}
export interface SummaryDataPoint {
  attributes: KeyValue[]; startTimeUnixNano?: Int64; timeUnixNano: Int64; count: Int64; sum: number;
  quantileValues: { quantile: number; value: number }[]; flags?: number;
}
export interface Metric {
  name: string;
  description?: string;
  unit?: string;
  gauge?: { dataPoints: NumberDataPoint[] } | null;
  sum?: { dataPoints: NumberDataPoint[]; aggregationTemporality: AggregationTemporality; isMonotonic: boolean } | null;
  histogram?: { dataPoints: HistogramDataPoint[]; aggregationTemporality: AggregationTemporality } | null;
  exponentialHistogram?: { dataPoints: ExponentialHistogramDataPoint[]; aggregationTemporality: AggregationTemporality } | null;
  summary?: { dataPoints: SummaryDataPoint[] } | null;
  metadata?: KeyValue[];
}
export interface ScopeMetrics { scope?: InstrumentationScope | null; metrics: Metric[]; schemaUrl?: string }
export interface ResourceMetrics { resource?: Resource | null; scopeMetrics: ScopeMetrics[]; schemaUrl?: string }

export interface LogRecord {
  timeUnixNano?: Int64; observedTimeUnixNano?: Int64; severityNumber?: number; severityText?: string;
  body?: AnyValue | null; attributes: KeyValue[]; droppedAttributesCount?: number; flags?: number;
  traceId?: Uint8Array; spanId?: Uint8Array; eventName?: string;
}
export interface ScopeLogs { scope?: InstrumentationScope | null; logRecords: LogRecord[]; schemaUrl?: string }
export interface ResourceLogs { resource?: Resource | null; scopeLogs: ScopeLogs[]; schemaUrl?: string }

/** What flows through a traces pipeline: one ExportTraceServiceRequest's content. */
export interface Traces { resourceSpans: ResourceSpans[] }
/** What flows through a metrics pipeline. */
export interface Metrics { resourceMetrics: ResourceMetrics[] }
/** What flows through a logs pipeline. */
export interface Logs { resourceLogs: ResourceLogs[] }

export interface ExportPartialSuccess { rejected: number; errorMessage: string }
