// The agent's configuration: typed, with defaults, read from YAML (the `yaml` package), the
// standard OTEL_* environment and command-line flags. Precedence: defaults < environment < file
// < flags. Validation names the bad key and says why; unknown keys are errors (typos must not
// silently fall back to defaults).
import { readFileSync, statSync, statfsSync } from 'node:fs';
import { parseDocument } from 'yaml';

export type ExportProtocol = 'grpc' | 'http/protobuf';
export type LiveViewMode = 'auto' | 'on' | 'off';

export interface AgentConfig {
  /** host:port of the /metrics, /healthz, /readyz server. */
  listen: string;
  export: {
    enabled: boolean;
    protocol: ExportProtocol;
    /** Undefined: the exporters use OTEL_EXPORTER_OTLP_*_ENDPOINT or their default (localhost:4317/4318). */
    endpoint?: string;
    timeoutMs: number;
    metricIntervalMs: number;
    spanQueueSize: number;
    spanBatchSize: number;
    spanDelayMs: number;
  };
  capture: {
    payloadCap?: number;
    ringBufferBytes?: number;
    includePids: number[];
    excludePids: number[];
    /** cgroup v2 directories; a filter covers the cgroup and everything below it. */
    includeCgroups: string[];
    excludeCgroups: string[];
    excludeSelf: boolean;
  };
  engine: {
    requestTimeoutMs: number;
    maxConnections: number;
  };
  signals: {
    maxRoutesPerService: number;
    maxServices: number;
    linkWaitMs: number;
  };
  /** NAT resolution: where DNATed client connections (Service VIP → pod) really went (docs/nat.md). */
  conntrack: {
    enabled: boolean;
    /** Network namespace whose conntrack table to follow; undefined: the agent's own (the node's with hostNetwork). */
    netnsPath?: string;
    /** How long a client span whose NAT lookup missed waits for its conntrack event before export. */
    missWaitMs: number;
  };
  /** TCP network health metrics from the kernel (docs/network-health.md). */
  networkHealth: {
    enabled: boolean;
    /** Peers (server address:port, or client address) per service before the overflow bucket. */
    maxPeersPerService: number;
  };
  liveView: LiveViewMode;
  /** Live view refresh period. */
  liveViewRefreshMs: number;
}

export class ConfigError extends Error {
  constructor(readonly key: string, reason: string, source = 'config') {
    super(`${source}: '${key}': ${reason}`);
    this.name = 'ConfigError';
  }
}

type Kind = 'string' | 'bool' | 'int' | 'ints' | 'cgroups' | 'protocol' | 'liveview' | 'hostport' | 'url' | 'abspath';
interface Field { key: string; path: string[]; kind: Kind; min?: number; help: string; def: string }

/** Every option, its YAML key, type and meaning (also the source of `--help`). */
export const FIELDS: Field[] = [
  { key: 'listen', path: ['listen'], kind: 'hostport', help: '/metrics, /healthz and /readyz address', def: '127.0.0.1:9464' },
  { key: 'export.enabled', path: ['export', 'enabled'], kind: 'bool', help: 'send spans and metrics over OTLP', def: 'true' },
  { key: 'export.protocol', path: ['export', 'protocol'], kind: 'protocol', help: 'grpc or http/protobuf', def: 'OTEL_EXPORTER_OTLP_PROTOCOL, else grpc' },
  { key: 'export.endpoint', path: ['export', 'endpoint'], kind: 'url', help: 'OTLP endpoint URL', def: 'OTEL_EXPORTER_OTLP_ENDPOINT, else localhost:4317/4318' },
  { key: 'export.timeout_ms', path: ['export', 'timeoutMs'], kind: 'int', min: 1, help: 'export request timeout', def: 'OTEL_EXPORTER_OTLP_TIMEOUT, else 10000' },
  { key: 'export.metric_interval_ms', path: ['export', 'metricIntervalMs'], kind: 'int', min: 100, help: 'metric export period', def: 'OTEL_METRIC_EXPORT_INTERVAL, else 60000' },
  { key: 'export.span_queue_size', path: ['export', 'spanQueueSize'], kind: 'int', min: 1, help: 'spans queued for export before drops (counted)', def: '16384' },
  { key: 'export.span_batch_size', path: ['export', 'spanBatchSize'], kind: 'int', min: 1, help: 'spans per export request', def: '2048' },
  { key: 'export.span_delay_ms', path: ['export', 'spanDelayMs'], kind: 'int', min: 1, help: 'longest wait before a partial batch is sent', def: '1000' },
  { key: 'capture.payload_cap', path: ['capture', 'payloadCap'], kind: 'int', min: 1, help: 'bytes captured per syscall', def: 'capture default' },
  { key: 'capture.ring_buffer_bytes', path: ['capture', 'ringBufferBytes'], kind: 'int', min: 4096, help: 'kernel ring buffer size', def: 'capture default' },
  { key: 'capture.include_pids', path: ['capture', 'includePids'], kind: 'ints', help: 'trace only these pids', def: '[] (all)' },
  { key: 'capture.exclude_pids', path: ['capture', 'excludePids'], kind: 'ints', help: 'never trace these pids', def: '[]' },
  { key: 'capture.include_cgroups', path: ['capture', 'includeCgroups'], kind: 'cgroups', help: 'trace only processes in these cgroup v2 directories and below (e.g. /sys/fs/cgroup/kubepods.slice)', def: '[] (all)' },
  { key: 'capture.exclude_cgroups', path: ['capture', 'excludeCgroups'], kind: 'cgroups', help: 'never trace processes in these cgroup v2 directories or below; the nearest listed cgroup decides', def: '[]' },
  { key: 'capture.exclude_self', path: ['capture', 'excludeSelf'], kind: 'bool', help: "never trace the agent's own traffic", def: 'true' },
  { key: 'engine.request_timeout_ms', path: ['engine', 'requestTimeoutMs'], kind: 'int', min: 1, help: 'unanswered request → timeout transaction after', def: '30000' },
  { key: 'engine.max_connections', path: ['engine', 'maxConnections'], kind: 'int', min: 1, help: 'connections tracked at once', def: '65536' },
  { key: 'signals.max_routes_per_service', path: ['signals', 'maxRoutesPerService'], kind: 'int', min: 1, help: 'http.route values per service before overflow', def: '200' },
  { key: 'signals.max_services', path: ['signals', 'maxServices'], kind: 'int', min: 1, help: 'services with their own metrics before overflow', def: '256' },
  { key: 'signals.link_wait_ms', path: ['signals', 'linkWaitMs'], kind: 'int', min: 0, help: 'how long a server span waits for its same-node client span', def: '300' },
  { key: 'conntrack.enabled', path: ['conntrack', 'enabled'], kind: 'bool', help: 'follow conntrack to name the real peer of DNATed client connections (needs CAP_NET_ADMIN)', def: 'true' },
  { key: 'conntrack.netns_path', path: ['conntrack', 'netnsPath'], kind: 'abspath', help: 'network namespace whose conntrack table to follow, e.g. /proc/1/ns/net', def: "the agent's own (the node's with hostNetwork)" },
  { key: 'conntrack.miss_wait_ms', path: ['conntrack', 'missWaitMs'], kind: 'int', min: 0, help: 'a client span not (yet) in the NAT table waits this long for its conntrack event, then is looked up again', def: '500' },
  { key: 'network_health.enabled', path: ['networkHealth', 'enabled'], kind: 'bool', help: 'TCP connect, retransmit, reset and listen-overflow metrics from the kernel (off by itself when the kernel lacks the tracepoints)', def: 'true' },
  { key: 'network_health.max_peers_per_service', path: ['networkHealth', 'maxPeersPerService'], kind: 'int', min: 1, help: 'peer label values per service before the _OTHER bucket', def: '100' },
  { key: 'live_view', path: ['liveView'], kind: 'liveview', help: 'terminal view: auto (when stdout is a TTY), on, off', def: 'auto' },
  { key: 'live_view_refresh_ms', path: ['liveViewRefreshMs'], kind: 'int', min: 100, help: 'live view refresh period', def: '1000' },
];

export function defaultConfig(): AgentConfig {
  return {
    listen: '127.0.0.1:9464',
    export: { enabled: true, protocol: 'grpc', timeoutMs: 10_000, metricIntervalMs: 60_000, spanQueueSize: 16_384, spanBatchSize: 2048, spanDelayMs: 1000 },
    capture: { includePids: [], excludePids: [], includeCgroups: [], excludeCgroups: [], excludeSelf: true },
    engine: { requestTimeoutMs: 30_000, maxConnections: 65_536 },
    signals: { maxRoutesPerService: 200, maxServices: 256, linkWaitMs: 300 },
    conntrack: { enabled: true, missWaitMs: 500 },
    networkHealth: { enabled: true, maxPeersPerService: 100 },
    liveView: 'auto',
    liveViewRefreshMs: 1000,
  };
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Why `v` is not a cgroup v2 directory, or undefined when it is. */
function cgroupDirProblem(v: unknown): string | undefined {
  const p = typeof v === 'string' ? v.trim() : '';
  if (!p.startsWith('/')) return `must be an absolute cgroup v2 directory (e.g. /sys/fs/cgroup/system.slice), got ${JSON.stringify(v)}`;
  try {
    if (!statSync(p).isDirectory()) return `${p} is not a directory`;
    if (statfsSync(p).type !== CGROUP2_SUPER_MAGIC) return `${p} is not on a cgroup v2 file system`;
  } catch (e) {
    return `${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  return undefined;
}

/** The kernel's id of a cgroup v2 directory (its inode number), as the capture filters take it. */
export function cgroupId(dir: string): bigint {
  return BigInt(statSync(dir).ino);
}

/** A YAML list, or a comma-separated string (environment, flags); undefined for anything else. */
function listValue(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').filter((x) => x.trim() !== '') : undefined;
}

function coerce(f: Field, raw: unknown, source: string): unknown {
  const bad = (why: string) => new ConfigError(f.key, why, source);
  const str = typeof raw === 'string' ? raw.trim() : raw;
  switch (f.kind) {
    case 'bool':
      if (typeof str === 'boolean') return str;
      if (str === 'true' || str === 'false') return str === 'true';
      throw bad(`must be true or false, got ${JSON.stringify(raw)}`);
    case 'int': {
      const n = typeof str === 'number' ? str : typeof str === 'string' && /^-?\d+$/.test(str) ? Number(str) : NaN;
      if (!Number.isSafeInteger(n)) throw bad(`must be an integer, got ${JSON.stringify(raw)}`);
      if (f.min !== undefined && n < f.min) throw bad(`must be at least ${f.min}, got ${n}`);
      return n;
    }
    case 'cgroups': {
      const list = listValue(str);
      if (!list) throw bad(`must be a list of cgroup directories, got ${JSON.stringify(raw)}`);
      return list.map((v, i) => {
        const why = cgroupDirProblem(v);
        if (why) throw bad(`item ${i} ${why}`);
        return String(v).trim();
      });
    }
    case 'ints': {
      const list = listValue(str);
      if (!list) throw bad(`must be a list of pids, got ${JSON.stringify(raw)}`);
      return list.map((v, i) => {
        const n = typeof v === 'number' ? v : Number(String(v).trim());
        if (!Number.isSafeInteger(n) || n <= 0) throw bad(`item ${i} must be a positive integer pid, got ${JSON.stringify(v)}`);
        return n;
      });
    }
    case 'protocol':
      if (str === 'grpc' || str === 'http/protobuf') return str;
      if (str === 'http/json') throw bad('http/json is not supported by this agent; use grpc or http/protobuf');
      throw bad(`must be grpc or http/protobuf, got ${JSON.stringify(raw)}`);
    case 'liveview':
      if (str === 'auto' || str === 'on' || str === 'off') return str;
      if (str === true || str === false) return str ? 'on' : 'off';
      throw bad(`must be auto, on or off, got ${JSON.stringify(raw)}`);
    case 'hostport': {
      if (typeof str !== 'string') throw bad(`must be host:port, got ${JSON.stringify(raw)}`);
      const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(str);
      if (!m || Number(m[2]) > 65535) throw bad(`must be host:port with a port 0-65535, got ${JSON.stringify(raw)}`);
      return str;
    }
    case 'url': {
      if (typeof str !== 'string' || str === '') throw bad(`must be a URL, got ${JSON.stringify(raw)}`);
      try {
        const u = new URL(str);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
      } catch { throw bad(`must be an http:// or https:// URL, got ${JSON.stringify(raw)}`); }
      return str;
    }
    case 'abspath':
      if (typeof str !== 'string' || !str.startsWith('/')) throw bad(`must be an absolute path (e.g. /proc/1/ns/net), got ${JSON.stringify(raw)}`);
      return str;
    case 'string':
      if (typeof str !== 'string') throw bad(`must be a string, got ${JSON.stringify(raw)}`);
      return str;
  }
}

function assign(cfg: AgentConfig, f: Field, value: unknown): void {
  let o = cfg as unknown as Record<string, unknown>;
  for (const p of f.path.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[f.path[f.path.length - 1]!] = value;
}

/** Applies the standard OTEL_* variables. */
export function applyEnv(cfg: AgentConfig, env: NodeJS.ProcessEnv): void {
  const set = (key: string, raw: string | undefined, name: string) => {
    if (raw === undefined || raw.trim() === '') return;
    const f = FIELDS.find((x) => x.key === key)!;
    assign(cfg, f, coerce(f, raw, `environment ${name}`));
  };
  set('export.protocol', env.OTEL_EXPORTER_OTLP_PROTOCOL, 'OTEL_EXPORTER_OTLP_PROTOCOL');
  set('export.timeout_ms', env.OTEL_EXPORTER_OTLP_TIMEOUT, 'OTEL_EXPORTER_OTLP_TIMEOUT');
  set('export.metric_interval_ms', env.OTEL_METRIC_EXPORT_INTERVAL, 'OTEL_METRIC_EXPORT_INTERVAL');
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') cfg.export.enabled = false;
  if (env.OTEL_TRACES_EXPORTER?.trim() === 'none' && env.OTEL_METRICS_EXPORTER?.trim() === 'none') cfg.export.enabled = false;
}

/** Applies a parsed YAML object; nested maps use the snake_case keys of FIELDS. */
export function applyObject(cfg: AgentConfig, obj: unknown, source: string): void {
  if (obj === null || obj === undefined) return;
  if (typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError('(top level)', 'must be a mapping of options', source);
  const walk = (node: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      const f = FIELDS.find((x) => x.key === key);
      if (f) { assign(cfg, f, coerce(f, v, source)); continue; }
      const isSection = FIELDS.some((x) => x.key.startsWith(`${key}.`));
      if (isSection) {
        if (v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v)) throw new ConfigError(key, 'must be a mapping', source);
        walk(v as Record<string, unknown>, key);
        continue;
      }
      const siblings = FIELDS.filter((x) => x.key.startsWith(prefix ? `${prefix}.` : '')).map((x) => x.key.slice(prefix ? prefix.length + 1 : 0).split('.')[0]);
      throw new ConfigError(key, `unknown key (known here: ${[...new Set(siblings)].join(', ')})`, source);
    }
  };
  walk(obj as Record<string, unknown>, '');
}

export function parseYamlConfig(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) throw new ConfigError('(yaml)', doc.errors[0]!.message.split('\n')[0]!, source);
  return doc.toJS();
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Flag overrides by option key (e.g. 'listen', 'export.endpoint'). */
  overrides?: Record<string, unknown>;
}

export function loadAgentConfig(opts: LoadOptions = {}): AgentConfig {
  const cfg = defaultConfig();
  applyEnv(cfg, opts.env ?? process.env);
  if (opts.file) {
    let text: string;
    try { text = readFileSync(opts.file, 'utf8'); } catch (e) {
      throw new ConfigError('--config', `cannot read ${opts.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'flags');
    }
    applyObject(cfg, parseYamlConfig(text, opts.file), opts.file);
  }
  for (const [key, v] of Object.entries(opts.overrides ?? {})) {
    const f = FIELDS.find((x) => x.key === key);
    if (!f) throw new ConfigError(key, 'unknown option', 'flags');
    assign(cfg, f, coerce(f, v, 'flags'));
  }
  if (cfg.export.spanBatchSize > cfg.export.spanQueueSize) {
    throw new ConfigError('export.span_batch_size', `must not exceed export.span_queue_size (${cfg.export.spanQueueSize})`);
  }
  return cfg;
}
