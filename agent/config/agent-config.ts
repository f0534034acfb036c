// The agent's configuration: typed, with defaults, read from YAML (the `yaml` package), the
// standard OTEL_* environment and command-line flags. Built on common/'s schema kit, like the
// collector's: each key is declared once below (type, default, limits, --help text). The layers
// are merged first — defaults < environment < file < flags — and the result validated once; an
// error names the key, why, and where the value came from. Unknown keys are errors (typos must not
// silently fall back to defaults).
import { readFileSync, statSync, statfsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../common/config/config-error.js';
import { object, optional, type Infer, type MapWording, type ObjectSchema, type Schema } from '../../common/config/config-schema.js';
import { type IntLimit, PAYLOAD_CAP, PID, RING_BYTES, limitProblem } from '../capture/capture-limits.js';

// Errors name the source of the bad value: the config file's path, 'environment OTEL_…', 'flags'.
export { ConfigError };

export type ExportProtocol = 'grpc' | 'http/protobuf';
export type LiveViewMode = 'auto' | 'on' | 'off';

// ---- leaf schemas: values from YAML, or strings from the environment and flags ----

const shown = (v: unknown) => JSON.stringify(v);
const trimmed = (v: unknown) => (typeof v === 'string' ? v.trim() : v);

/** A leaf with its --help line; `shownDefault` when the default is not just the value (e.g. from the environment). */
interface Documented<T> extends Schema<T> { help: string; shownDefault?: string }

function leaf<T>(def: T | undefined, help: string, check: (v: unknown, raw: unknown) => T, shownDefault?: string): Documented<T> {
  return {
    expects: help, help, shownDefault,
    parse(raw, path) {
      if (raw === undefined || raw === null) {
        if (def === undefined) throw new ConfigError(path, 'is required');
        return def;
      }
      try {
        return check(trimmed(raw), raw);
      } catch (e) {
        if (e instanceof Reason) throw new ConfigError(path, e.message);
        throw e;
      }
    },
  };
}
/** A reason a value is bad; the leaf adds the key path. */
class Reason extends Error {}
const bad = (why: string): never => { throw new Reason(why); };

function integer(def: number | undefined, help: string, min: number, max?: number, shownDefault?: string): Documented<number> {
  return leaf(def, help, (v, raw) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) bad(`must be an integer, got ${shown(raw)}`);
    if (n < min) bad(`must be at least ${min}, got ${n}`);
    if (max !== undefined && n > max) bad(`must be at most ${max}, got ${n}`);
    return n;
  }, shownDefault);
}

function flag(def: boolean, help: string): Documented<boolean> {
  return leaf(def, help, (v, raw) => {
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return bad(`must be true or false, got ${shown(raw)}`);
  });
}

/** A YAML list, or a comma-separated string (environment, flags). */
function listOf<T>(help: string, what: string, item: (v: unknown, i: number) => T, shownDefault?: string): Documented<T[]> {
  return leaf<T[]>([], help, (v, raw) => {
    const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').filter((x) => x.trim() !== '') : undefined;
    if (!list) return bad(`must be a list of ${what}, got ${shown(raw)}`);
    return list.map(item);
  }, shownDefault);
}

/** A capture option: read as an integer here, checked against capture-limits.ts by the same
 *  function KernelCapture.open uses, so the config and the capture cannot disagree. */
function captureInt(limit: IntLimit, help: string): Documented<number> {
  return leaf(undefined, help, (v) => {
    const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
    const why = limitProblem(limit, n);
    return why ? bad(why) : n as number;
  });
}

const pid = (v: unknown, i: number): number => {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (limitProblem(PID, n)) bad(`item ${i} must be a positive integer pid (at most ${PID.max}), got ${shown(v)}`);
  return n;
};

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Why `v` is not a cgroup v2 directory, or undefined when it is. */
function cgroupDirProblem(v: unknown): string | undefined {
  const p = typeof v === 'string' ? v.trim() : '';
  if (!p.startsWith('/')) return `must be an absolute cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice), got ${shown(v)}`;
  try {
    if (!statSync(p).isDirectory()) return `${p} is not a directory`;
    if (statfsSync(p).type !== CGROUP2_SUPER_MAGIC) return `${p} is not on a cgroup v2 file system`;
  } catch (e) {
    return `${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  return undefined;
}
const cgroupDir = (v: unknown, i: number): string => {
  const why = cgroupDirProblem(v);
  if (why) bad(`item ${i} ${why}`);
  return String(v).trim();
};

const protocol = leaf<ExportProtocol>('grpc', 'grpc or http/protobuf', (v, raw) => {
  if (v === 'grpc' || v === 'http/protobuf') return v;
  if (v === 'http/json') bad('http/json is not supported by this agent; use grpc or http/protobuf');
  return bad(`must be grpc or http/protobuf, got ${shown(raw)}`);
}, 'OTEL_EXPORTER_OTLP_PROTOCOL, else grpc');

const liveView = leaf<LiveViewMode>('auto', 'terminal view: auto (when stdout is a TTY), on, off', (v, raw) => {
  if (v === 'auto' || v === 'on' || v === 'off') return v;
  if (v === true || v === false) return v ? 'on' : 'off';
  return bad(`must be auto, on or off, got ${shown(raw)}`);
});

function hostPort(def: string, help: string): Documented<string> {
  return leaf(def, help, (v, raw) => {
    if (typeof v !== 'string') return bad(`must be host:port, got ${shown(raw)}`);
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(v);
    if (!m || Number(m[2]) > 65535) bad(`must be host:port with a port 0-65535, got ${shown(raw)}`);
    return v;
  });
}

function httpUrl(help: string, shownDefault: string): Documented<string> {
  return leaf<string>(undefined, help, (v, raw) => {
    if (typeof v !== 'string' || v === '') return bad(`must be a URL, got ${shown(raw)}`);
    let ok = false;
    try { const u = new URL(v); ok = u.protocol === 'http:' || u.protocol === 'https:'; } catch { /* not a URL */ }
    if (!ok) bad(`must be an http:// or https:// URL, got ${shown(raw)}`);
    return v;
  }, shownDefault);
}

function absolutePath(help: string, shownDefault: string): Documented<string> {
  return leaf<string>(undefined, help, (v, raw) => {
    if (typeof v !== 'string' || !v.startsWith('/')) bad(`must be an absolute path (e.g. /proc/1/ns/net), got ${shown(raw)}`);
    return v as string;
  }, shownDefault);
}

/** A CPU amount in cores: a number (0.5) or Kubernetes millicores ("500m"). */
function cores(def: number, help: string, shownDefault: string): Documented<number> {
  return leaf(def, help, (v, raw) => {
    const m = typeof v === 'string' ? /^(\d+(?:\.\d+)?)(m?)$/.exec(v) : undefined;
    const n = typeof v === 'number' ? v : m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
    if (!Number.isFinite(n) || n <= 0) bad(`must be a positive number of cores (0.5) or millicores ("500m"), got ${shown(raw)}`);
    return n;
  }, shownDefault);
}

/** A sampling probability: 2^-56 (the smallest a threshold can express) to 1. */
function probability(help: string): Documented<number> {
  return leaf<number>(undefined, help, (v, raw) => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || n < 2 ** -56 || n > 1) bad(`must be a probability from 2^-56 to 1, got ${shown(raw)}`);
    return n;
  });
}

/** The default CPU budget: a tenth of the node's cores (0.2 cores on a 2-core node). */
export const DEFAULT_CPU_BUDGET_PER_CORE = 0.1;
export const defaultCpuBudget = (): number => Math.round(DEFAULT_CPU_BUDGET_PER_CORE * availableParallelism() * 1000) / 1000;

/** An optional leaf: absent means "the component's own default", shown as `shownDefault`. */
function maybe<T>(of: Documented<T>, shownDefault: string): Documented<T | undefined> {
  return { ...optional(of), help: of.help, shownDefault };
}

const AGENT_WORDING: MapWording = {
  notAMap: () => 'must be a mapping',
  unknownKey: (known) => `unknown key (known here: ${known.join(', ')})`,
};
const section = <F extends Record<string, Schema<unknown>>>(fields: F) => object(fields, undefined, AGENT_WORDING);

// ---- every key, once ----

export const agentConfigSchema = object({
  listen: hostPort('127.0.0.1:9464', '/metrics, /healthz and /readyz address'),
  export: section({
    enabled: flag(true, 'send spans and metrics over OTLP'),
    protocol,
    /** Undefined: the exporters use OTEL_EXPORTER_OTLP_*_ENDPOINT or their default (localhost:4317/4318). */
    endpoint: maybe(httpUrl('OTLP endpoint URL', ''), 'OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4317/4318'),
    timeout_ms: integer(10_000, 'export request timeout', 1, undefined, 'OTEL_EXPORTER_OTLP_TIMEOUT, else 10000'),
    metric_interval_ms: integer(60_000, 'metric export period', 100, undefined, 'OTEL_METRIC_EXPORT_INTERVAL, else 60000'),
    span_queue_size: integer(16_384, 'spans queued for export before drops (counted)', 1),
    span_queue_bytes: integer(32 * 2 ** 20, 'estimated encoded bytes of spans queued for export before drops (counted)', 65_536),
    span_batch_size: integer(2048, 'spans per export request', 1),
    span_delay_ms: integer(1000, 'longest wait before a partial batch is sent', 1),
  }),
  capture: section({
    payload_cap: maybe(captureInt(PAYLOAD_CAP, 'bytes captured per syscall'), 'capture default'),
    ring_buffer_bytes: maybe(captureInt(RING_BYTES, 'kernel ring buffer size'), 'capture default'),
    include_pids: listOf('trace only these pids', 'pids', pid, '[] (all)'),
    exclude_pids: listOf('never trace these pids', 'pids', pid),
    /** cgroup v2 directories; a filter covers the cgroup and everything below it. */
    include_cgroups: listOf('trace only processes in these cgroup v2 directories and below (e.g. /sys/fs/cgroup/kubepods.slice)', 'cgroup directories', cgroupDir, '[] (all)'),
    exclude_cgroups: listOf('never trace processes in these cgroup v2 directories or below; the nearest listed cgroup decides', 'cgroup directories', cgroupDir),
    exclude_self: flag(true, "never trace the agent's own traffic"),
  }),
  engine: section({
    request_timeout_ms: integer(30_000, 'unanswered request → timeout transaction after', 1),
    max_connections: integer(65_536, 'connections tracked at once', 1),
  }),
  signals: section({
    max_routes_per_service: integer(200, 'http.route values per service before overflow', 1),
    max_label_values_per_service: integer(100, 'distinct values per service of each metric label from the wire (server.address, dns.question.name, rpc.method) before _OTHER', 1),
    max_services: integer(256, 'services with their own metrics before overflow', 1),
    link_wait_ms: integer(300, 'how long a server span waits for its same-node client span', 0),
  }),
  /** NAT resolution: where DNATed client connections (Service VIP → pod) really went (docs/nat.md). */
  conntrack: section({
    enabled: flag(true, 'follow conntrack to name the real peer of DNATed client connections (needs CAP_NET_ADMIN)'),
    /** Undefined: the agent's own network namespace (the node's with hostNetwork). */
    netns_path: maybe(absolutePath('network namespace whose conntrack table to follow, e.g. /proc/1/ns/net', ''), "the agent's own (the node's with hostNetwork)"),
    miss_wait_ms: integer(500, 'a client span not (yet) in the NAT table waits this long for its conntrack event, then is looked up again', 0),
  }),
  /** TCP network health metrics from the kernel (docs/network-health.md). */
  network_health: section({
    enabled: flag(true, 'TCP connect, retransmit, reset and listen-overflow metrics from the kernel (off by itself when the kernel lacks the tracepoints)'),
    max_peers_per_service: integer(100, 'peer label values per service before the _OTHER bucket', 1),
  }),
  /** Span sampling under CPU pressure (docs/agent.md, "Sampling under overload"). */
  sampling: section({
    cpu_budget: cores(defaultCpuBudget(), 'most CPU the agent process may use, in cores or millicores ("250m"); spans are sampled to stay under it (RED metrics never are)',
      `${DEFAULT_CPU_BUDGET_PER_CORE} × CPU cores (${defaultCpuBudget()} here); SOCKEYE_AGENT_CPU_BUDGET`),
    probability: maybe(probability('fixed span sampling probability (the CPU budget then no longer adapts it)'), 'none: the CPU budget decides'),
    interval_ms: integer(1000, 'how often the CPU budget is checked and the probability stepped', 100),
  }),
  live_view: liveView,
  live_view_refresh_ms: integer(1000, 'live view refresh period', 100),
}, undefined, AGENT_WORDING);

type CamelCase<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;
type Flat<T> = { [K in keyof T]: T[K] };
/** Keys that may be undefined (optional leaves) become optional properties: absent, not `undefined`. */
type CamelKeys<T> = T extends readonly unknown[] ? T
  : T extends object ? Flat<{ [K in keyof T as undefined extends T[K] ? never : CamelCase<K & string>]: CamelKeys<T[K]> }
    & { [K in keyof T as undefined extends T[K] ? CamelCase<K & string> : never]?: CamelKeys<Exclude<T[K], undefined>> }> : T;

/** The validated configuration, its sections and keys in camelCase (export.timeout_ms → export.timeoutMs). */
export type AgentConfig = CamelKeys<Infer<typeof agentConfigSchema>>;

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
function camelKeys(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== undefined) out[camel(k)] = camelKeys(x);
  return out;
}

/** Every key with its help and shown default (the source of `sockeye agent --help`). */
export interface Field { key: string; help: string; def: string }
export const FIELDS: Field[] = fieldsOf(agentConfigSchema, '');

function fieldsOf(s: ObjectSchema<unknown>, prefix: string): Field[] {
  return Object.entries(s.fields).flatMap(([k, f]) => {
    const key = prefix ? `${prefix}.${k}` : k;
    if ('fields' in f) return fieldsOf(f as ObjectSchema<unknown>, key);
    const d = f as Documented<unknown>;
    return [{ key, help: d.help, def: d.shownDefault ?? showDefault(d.parse(undefined, key)) }];
  });
}
function showDefault(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
}

/** The kernel's id of a cgroup v2 directory (its inode number), as the capture filters take it. */
export function cgroupId(dir: string): bigint {
  return BigInt(statSync(dir).ino);
}

// ---- layers: raw values by key path, each remembering where it came from ----

type Raw = Record<string, unknown>;

class Layers {
  readonly raw: Raw = {};
  private readonly sources = new Map<string, string>();

  set(path: string[], value: unknown, source: string): void {
    let o = this.raw;
    for (const p of path.slice(0, -1)) {
      if (typeof o[p] !== 'object' || o[p] === null || Array.isArray(o[p])) o[p] = {};
      o = o[p] as Raw;
    }
    o[path[path.length - 1]!] = value;
    this.sources.set(path.join('.'), source);
  }

  /** Lays a YAML document over what is there: maps merge key by key, anything else replaces. */
  merge(obj: Raw, source: string, prefix: string[] = []): void {
    for (const [k, v] of Object.entries(obj)) {
      const path = [...prefix, k];
      const isSection = isSectionKey(path);
      if (isSection && v === null) continue; // `export:` with nothing under it: defaults
      if (isSection && typeof v === 'object' && !Array.isArray(v)) this.merge(v as Raw, source, path);
      else this.set(path, v, source);
    }
  }

  /** Where the value at `path` (or the section holding it) came from. */
  sourceOf(path: string): string {
    for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
      const s = this.sources.get(p);
      if (s) return s;
    }
    return 'config';
  }
}

function isSectionKey(path: string[]): boolean {
  let s: Schema<unknown> | undefined = agentConfigSchema;
  for (const p of path) s = s && 'fields' in s ? (s as ObjectSchema<unknown>).fields[p] : undefined;
  return s !== undefined && 'fields' in s;
}

/** The standard OTEL_* variables, as the lowest layer above the defaults. */
function layerEnv(l: Layers, env: NodeJS.ProcessEnv): void {
  const set = (path: string[], name: string) => {
    const raw = env[name];
    if (raw !== undefined && raw.trim() !== '') l.set(path, raw, `environment ${name}`);
  };
  set(['export', 'protocol'], 'OTEL_EXPORTER_OTLP_PROTOCOL');
  set(['export', 'timeout_ms'], 'OTEL_EXPORTER_OTLP_TIMEOUT');
  set(['export', 'metric_interval_ms'], 'OTEL_METRIC_EXPORT_INTERVAL');
  set(['sampling', 'cpu_budget'], 'SOCKEYE_AGENT_CPU_BUDGET');
  const off = env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true'
    || (env.OTEL_TRACES_EXPORTER?.trim() === 'none' && env.OTEL_METRICS_EXPORTER?.trim() === 'none');
  if (off) l.set(['export', 'enabled'], false, 'environment');
}

function layerFile(l: Layers, obj: unknown, source: string): void {
  if (obj === null || obj === undefined) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError('(top level)', 'must be a mapping of options', source);
  l.merge(obj as Raw, source);
}

/** Validates the merged layers once; a bad value is reported with the layer it came from. */
function validate(l: Layers): AgentConfig {
  let cfg: AgentConfig;
  try {
    cfg = camelKeys(agentConfigSchema.parse(l.raw, '')) as AgentConfig;
  } catch (e) {
    if (e instanceof ConfigError && e.source === undefined) throw new ConfigError(e.path, e.reason, l.sourceOf(e.path));
    throw e;
  }
  if (cfg.export.spanBatchSize > cfg.export.spanQueueSize) {
    throw new ConfigError('export.span_batch_size', `must not exceed export.span_queue_size (${cfg.export.spanQueueSize})`, 'config');
  }
  return cfg;
}

export function parseYamlConfig(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError('(yaml)', doc.errors[0]!.message.split('\n')[0]!, source);
  return doc.toJS();
}

/** The configuration a parsed YAML document gives on its own (no environment, no flags). */
export function configFromObject(obj: unknown, source: string): AgentConfig {
  const l = new Layers();
  layerFile(l, obj, source);
  return validate(l);
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag overrides by option key (e.g. 'listen', 'export.endpoint'). */
  overrides?: Record<string, unknown>;
}

export function loadAgentConfig(opts: LoadOptions = {}): AgentConfig {
  const l = new Layers();
  layerEnv(l, opts.env ?? process.env);
  if (opts.file) {
    let text: string;
    try { text = readFileSync(opts.file, 'utf8'); } catch (e) {
      throw new ConfigError('--config', `cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'flags');
    }
    layerFile(l, parseYamlConfig(text, opts.file), opts.file);
  }
  for (const [key, v] of Object.entries(opts.overrides ?? {})) {
    if (!FIELDS.some((f) => f.key === key)) throw new ConfigError(key, 'unknown option', 'flags');
    l.set(key.split('.'), v, 'flags');
  }
  return validate(l);
}
