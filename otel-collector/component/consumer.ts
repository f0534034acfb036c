// What flows between components: decoded OTLP per signal, pushed with consume*(). A returned
// promise settles when the next stage accepted (or refused) the data; refusals carry whether the
// sender may retry, so a receiver can answer UNAVAILABLE/503 vs INVALID_ARGUMENT/400.
import type { Traces, Metrics, Logs } from '../pdata/types.js';

export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export interface TracesConsumer { consumeTraces(data: Traces): Promise<void> }
export interface MetricsConsumer { consumeMetrics(data: Metrics): Promise<void> }
export interface LogsConsumer { consumeLogs(data: Logs): Promise<void> }

export interface SignalData { traces: Traces; metrics: Metrics; logs: Logs }
export interface SignalConsumers { traces: TracesConsumer; metrics: MetricsConsumer; logs: LogsConsumer }
/** A component that may consume any subset of signals. */
export type AnyConsumer = Partial<TracesConsumer & MetricsConsumer & LogsConsumer>;

/** The consume function of `c` for `signal`, or undefined when it does not take that signal. */
export function consumeFn<S extends Signal>(c: AnyConsumer, signal: S): ((d: SignalData[S]) => Promise<void>) | undefined {
  const f = signal === 'traces' ? c.consumeTraces : signal === 'metrics' ? c.consumeMetrics : c.consumeLogs;
  return f ? (f.bind(c) as (d: SignalData[S]) => Promise<void>) : undefined;
}

/** Builds a consumer object for one signal from a function. */
export function consumerOf<S extends Signal>(signal: S, fn: (d: SignalData[S]) => Promise<void>): AnyConsumer {
  if (signal === 'traces') return { consumeTraces: fn as never };
  if (signal === 'metrics') return { consumeMetrics: fn as never };
  return { consumeLogs: fn as never };
}

/** A refusal by a downstream stage. `retryable` false means the data is bad and resending won't help. */
export class ConsumerError extends Error {
  constructor(message: string, readonly retryable: boolean, readonly retryAfterMs?: number) {
    super(message);
    this.name = 'ConsumerError';
  }
}
export const retryableError = (msg: string, retryAfterMs?: number) => new ConsumerError(msg, true, retryAfterMs);
export const permanentError = (msg: string) => new ConsumerError(msg, false);

/** True when the error (or any error a fan-out combined) allows a retry. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ConsumerError) return e.retryable;
  if (e instanceof AggregateError) return e.errors.some(isRetryable);
  return true; // an unexpected failure inside the collector: let the sender try again
}
export function retryAfterMsOf(e: unknown): number | undefined {
  if (e instanceof ConsumerError) return e.retryAfterMs;
  if (e instanceof AggregateError) for (const x of e.errors) { const r = retryAfterMsOf(x); if (r !== undefined) return r; }
  return undefined;
}
