// Which labels a metric's resource contributes, following the OpenTelemetry → Prometheus
// compatibility rules, so that series of different services and pods never overwrite each other:
// `job` = service.namespace/service.name (or service.name), `instance` = service.instance.id, and the
// remaining resource attributes on one `target_info` series per (job, instance). Extensions of ours:
// instance falls back to k8s.pod.uid, then host.name (sockeye's agents set no service.instance.id),
// and a short list of attributes that dashboards filter on is promoted to every series. Attributes
// that change on every process restart are never labels and never in target_info: a restarted
// process would otherwise start new series (and a second target_info for the same instance).
import { str, ConfigError, type Schema } from '../../../common/config/config-schema.js';
import type { KeyValue, AnyValue } from '../../pdata/types.js';
import { int64ToString } from '../../pdata/int64.js';
import { sanitizeLabelName } from './prometheus-naming.js';

/** Restart-churning attributes: left out of every series and of target_info. */
export const CHURNING = new Set(['process.pid', 'process.parent_pid', 'process.command', 'process.command_line', 'process.command_args']);

/** Promoted by default: the service (as on the agent's own /metrics) and the k8s namespace, pod and workload. */
export const DEFAULT_PROMOTED = [
  'service.name', 'k8s.namespace.name', 'k8s.pod.name', 'k8s.deployment.name', 'k8s.statefulset.name',
  'k8s.daemonset.name', 'k8s.job.name', 'k8s.cronjob.name',
];

const IDENTIFYING = new Set(['service.name', 'service.namespace', 'service.instance.id']);

/** A resource attribute name that may be promoted to a label (restart-churning ones are refused). */
export const promotable: Schema<string> = {
  expects: 'a resource attribute name',
  parse(raw, path) {
    const name = str(undefined, { nonEmpty: true }).parse(raw, path);
    if (CHURNING.has(name)) throw new ConfigError(path, `${name} changes on every process restart and is never a label`);
    return name;
  },
};

export function anyText(v: AnyValue | null | undefined): string {
  if (!v) return '';
  if (v.stringValue != null) return v.stringValue;
  if (v.intValue != null) return int64ToString(v.intValue);
  if (v.doubleValue != null) return String(v.doubleValue);
  if (v.boolValue != null) return String(v.boolValue);
  if (v.arrayValue) return JSON.stringify(v.arrayValue.values.map(anyText));
  return '';
}

/** Label name → value; values of attributes whose names sanitize alike are joined with ";". */
export type LabelMap = Map<string, string>;

export function addLabel(m: LabelMap, key: string, value: string): void {
  const k = sanitizeLabelName(key);
  m.set(k, m.has(k) ? `${m.get(k)};${value}` : value);
}

export interface ResourceLabels {
  /** Added to every series of this resource before the point's own attributes. */
  promoted: LabelMap;
  /** job and instance (when known): set after the point's attributes, so they always win. */
  identity: LabelMap;
  /** The target_info series' labels, or undefined when the resource has nothing beyond job/instance. */
  info: LabelMap | undefined;
}

export function resourceLabels(resource: KeyValue[], opts: { promote: ReadonlySet<string>; all: boolean }): ResourceLabels {
  const attr = new Map(resource.map((kv) => [kv.key, anyText(kv.value)]));
  const identity: LabelMap = new Map();
  const name = attr.get('service.name');
  const ns = attr.get('service.namespace');
  if (name) identity.set('job', ns ? `${ns}/${name}` : name);
  const instance = attr.get('service.instance.id') || attr.get('k8s.pod.uid') || attr.get('host.name');
  if (instance) identity.set('instance', instance);

  const promoted: LabelMap = new Map();
  const info: LabelMap = new Map(identity);
  for (const kv of resource) {
    const v = anyText(kv.value);
    if (opts.all || opts.promote.has(kv.key)) addLabel(promoted, kv.key, v);
    if (!IDENTIFYING.has(kv.key) && !CHURNING.has(kv.key)) addLabel(info, kv.key, v);
  }
  return { promoted, identity, info: info.size > identity.size ? info : undefined };
}

/** `k="v",…` sorted by label name, the exporter's series key and rendered form. */
export function renderLabels(m: LabelMap, escape: (v: string) => string): string {
  return [...m.keys()].sort().map((k) => `${k}="${escape(m.get(k)!)}"`).join(',');
}
