// The protocol-independent half of an OTLP export: validate, hand to the pipeline, count, and
// describe the outcome (accepted with optional partial success, refused retryable, refused
// permanent) for the gRPC and HTTP front ends to translate into their status codes.
import { consumeFn, isRetryable, retryAfterMsOf, type AnyConsumer, type Signal, type SignalData } from '../../component/consumer.js';
import type { CreateSettings } from '../../component/factory.js';
import type { Traces, Metrics } from '../../pdata/types.js';
import { countItems } from '../../pdata/split.js';
import { dropInvalidSpans, dropInvalidMetrics } from './validate-data.js';

export type ExportOutcome =
  | { kind: 'accepted'; rejected: number; message: string }
  | { kind: 'refused'; retryable: boolean; message: string; retryAfterMs?: number };

export type ExportHandler = (signal: Signal, data: SignalData[Signal], transport: 'grpc' | 'http') => Promise<ExportOutcome>;

const ITEM: Record<Signal, string> = { traces: 'spans', metrics: 'metric_points', logs: 'log_records' };

export function makeExportHandler(s: CreateSettings, next: Partial<Record<Signal, AnyConsumer>>): ExportHandler {
  const id = s.id.toString();
  const t = s.telemetry;
  const accepted = t.counter('receiver_accepted_items', 'Items the receiver passed into the pipeline.');
  const refused = t.counter('receiver_refused_items', 'Items the pipeline refused; the sender was told whether to retry.');
  const rejected = t.counter('receiver_rejected_items', 'Invalid items dropped and reported as partial success.');
  return async (signal, data, transport) => {
    const send = next[signal] && consumeFn(next[signal]!, signal);
    const labels = { receiver: id, transport, item: ITEM[signal] };
    if (!send) {
      return { kind: 'refused', retryable: false, message: `no pipeline takes ${signal} from receiver ${id}` };
    }
    const bad = signal === 'traces' ? dropInvalidSpans(data as Traces) : signal === 'metrics' ? dropInvalidMetrics(data as Metrics) : { rejected: 0, reason: '' };
    if (bad.rejected) rejected.add(bad.rejected, labels);
    const n = countItems(signal, data);
    if (n === 0) return { kind: 'accepted', rejected: bad.rejected, message: bad.reason };
    try {
      await send(data);
      accepted.add(n, labels);
      return { kind: 'accepted', rejected: bad.rejected, message: bad.reason };
    } catch (e) {
      refused.add(n, labels);
      const retryable = isRetryable(e);
      return { kind: 'refused', retryable, message: (e as Error).message, retryAfterMs: retryAfterMsOf(e) };
    }
  };
}
