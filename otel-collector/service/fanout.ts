// Fan-out: one stage feeding several (a receiver used by two pipelines, a pipeline with two
// exporters). Every consumer gets the data; a consumer that changes data in place gets its own copy
// so the others never see its edits. Refusals are combined so the sender learns about any of them.
import { consumeFn, consumerOf, type AnyConsumer, type Signal, type SignalData } from '../component/consumer.js';
import {
  decodeTraceRequest, encodeTraceRequest, decodeMetricsRequest, encodeMetricsRequest,
  decodeLogsRequest, encodeLogsRequest,
} from '../pdata/codec.js';

export interface FanoutTarget { consumer: AnyConsumer; mutates: boolean }

/** Deep copy through the wire format: exact, and keeps protobufjs' defaults on the copies. */
export function cloneData<S extends Signal>(signal: S, d: SignalData[S]): SignalData[S] {
  const r = signal === 'traces' ? decodeTraceRequest(encodeTraceRequest(d as SignalData['traces']))
    : signal === 'metrics' ? decodeMetricsRequest(encodeMetricsRequest(d as SignalData['metrics']))
      : decodeLogsRequest(encodeLogsRequest(d as SignalData['logs']));
  if (!r.ok) throw new Error(`internal: could not clone ${signal}: ${r.error}`);
  return r.value as SignalData[S];
}

export function fanout<S extends Signal>(signal: S, targets: FanoutTarget[]): AnyConsumer {
  const fns = targets.map((t) => {
    const f = consumeFn(t.consumer, signal);
    if (!f) throw new Error(`internal: a fan-out target does not consume ${signal}`);
    return { f, mutates: t.mutates };
  });
  if (fns.length === 1) return consumerOf(signal, fns[0]!.f);
  // Mutating consumers always get a copy: the others may hold on to the original (a batch).
  return consumerOf(signal, async (d: SignalData[S]) => {
    const results = await Promise.allSettled(fns.map((x) => x.f(x.mutates ? cloneData(signal, d) : d)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, errors.map((e) => (e as Error).message).join('; '));
  });
}
