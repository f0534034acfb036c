// exporter `debug`: writes what reaches it to stdout, for looking at a pipeline by eye.
// verbosity basic: one summary line per batch; normal: one line per span/data point/log record;
// detailed: the batch as OTLP/JSON.
import { object, oneOf } from '../../../common/config/config-schema.js';
import type { ExporterFactory } from '../../component/factory.js';
import type { Infer } from '../../../common/config/config-schema.js';
import type { Signal, SignalData } from '../../component/consumer.js';
import type { Traces, Metrics, Logs, KeyValue, AnyValue, Int64 } from '../../pdata/types.js';
import { bytesToHex, nanosBetween, int64ToString } from '../../pdata/int64.js';
import { countItems } from '../../pdata/split.js';
import { encodeTraceRequestJson, encodeMetricsRequestJson, encodeLogsRequestJson } from '../../pdata/json-codec.js';

const config = object({ verbosity: oneOf(['basic', 'normal', 'detailed'] as const, 'basic') });
export type DebugConfig = Infer<typeof config>;

function valueText(v: AnyValue | null | undefined): string {
  if (!v) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) return int64ToString(v.intValue);
  if (v.doubleValue != null) return String(v.doubleValue);
  if (v.boolValue != null) return String(v.boolValue);
  if (v.arrayValue) return `[${v.arrayValue.values.map(valueText).join(',')}]`;
  if (v.kvlistValue) return `{${attrsText(v.kvlistValue.values)}}`;
  if (v.bytesValue) return bytesToHex(v.bytesValue);
  return '';
}
const attrsText = (a: KeyValue[] | undefined) => (a ?? []).map((kv) => `${kv.key}=${valueText(kv.value)}`).join(' ');

function lines(signal: Signal, d: SignalData[Signal]): string[] {
  const out: string[] = [];
  if (signal === 'traces') {
    for (const rs of (d as Traces).resourceSpans) for (const ss of rs.scopeSpans) for (const sp of ss.spans) {
      const ms = (nanosBetween(sp.startTimeUnixNano, sp.endTimeUnixNano) / 1e6).toFixed(3);
      out.push(`span ${bytesToHex(sp.traceId)}/${bytesToHex(sp.spanId)} kind=${sp.kind} "${sp.name}" ${ms}ms status=${sp.status?.code ?? 0} ${attrsText(sp.attributes)}`);
    }
  } else if (signal === 'metrics') {
    for (const rm of (d as Metrics).resourceMetrics) for (const sm of rm.scopeMetrics) for (const m of sm.metrics) {
      const pts = (m.gauge ?? m.sum ?? m.histogram ?? m.exponentialHistogram ?? m.summary)?.dataPoints ?? [];
      for (const p of pts) {
        const q = p as { asDouble?: number | null; asInt?: Int64 | null; count?: Int64 };
        const v = q.count !== undefined ? `count=${int64ToString(q.count)}` : q.asDouble ?? int64ToString(q.asInt);
        out.push(`metric ${m.name}{${attrsText(p.attributes)}} ${v}`);
      }
    }
  } else {
    for (const rl of (d as Logs).resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) {
      out.push(`log ${r.severityText ?? ''} ${valueText(r.body)} ${attrsText(r.attributes)}`);
    }
  }
  return out;
}

export const debugExporterFactory: ExporterFactory<DebugConfig> = {
  type: 'debug',
  kind: 'exporter',
  signals: ['traces', 'metrics', 'logs'],
  config,
  create(s, cfg) {
    const write = (text: string) => { process.stdout.write(text + '\n'); };
    const handle = (signal: Signal) => async (d: SignalData[Signal]) => {
      const n = countItems(signal, d);
      write(`debug ${s.id}: ${signal}: ${n} ${signal === 'traces' ? 'spans' : signal === 'metrics' ? 'data points' : 'log records'}`);
      if (cfg.verbosity === 'normal') for (const l of lines(signal, d)) write(l);
      if (cfg.verbosity === 'detailed') {
        write(signal === 'traces' ? encodeTraceRequestJson(d as Traces) : signal === 'metrics' ? encodeMetricsRequestJson(d as Metrics) : encodeLogsRequestJson(d as Logs));
      }
    };
    return {
      consumeTraces: handle('traces'),
      consumeMetrics: handle('metrics'),
      consumeLogs: handle('logs'),
      async start() {},
      async shutdown() {},
    };
  },
};
