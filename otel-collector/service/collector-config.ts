// Loads and validates a collector config (YAML text or file) against a registry: every component
// section parsed by its factory's schema, every pipeline checked against the defined components,
// the signals they support and the connectors' signal pairs. Fails fast with the full key path.
import { readFileSync } from 'node:fs';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { ConfigError, object, list, str, oneOf, optional, endpoint } from '../../common/config/config-schema.js';
import { parseComponentId, type ComponentId } from '../component/component-id.js';
import { SIGNALS, type Signal } from '../component/consumer.js';
import type { Kind, AnyFactory } from '../component/factory.js';
import type { Registry } from '../component/registry.js';

export interface ComponentConfig { id: ComponentId; kind: Kind; factory: AnyFactory; config: unknown }
export interface PipelineConfig {
  id: string; signal: Signal; receivers: string[]; processors: string[]; exporters: string[];
}
export interface CollectorConfig {
  receivers: Map<string, ComponentConfig>;
  processors: Map<string, ComponentConfig>;
  exporters: Map<string, ComponentConfig>;
  connectors: Map<string, ComponentConfig>;
  extensions: Map<string, ComponentConfig>;
  service: {
    extensions: string[];
    pipelines: PipelineConfig[];
    telemetry: { logs: { level: 'debug' | 'info' | 'warn' | 'error' }; metrics: { address?: string } };
  };
}

const SECTIONS = ['receivers', 'processors', 'exporters', 'connectors', 'extensions'] as const;
const KIND_OF: Record<(typeof SECTIONS)[number], Kind> = {
  receivers: 'receiver', processors: 'processor', exporters: 'exporter', connectors: 'connector', extensions: 'extension',
};

const telemetrySchema = object({
  logs: object({ level: oneOf(['debug', 'info', 'warn', 'error'] as const, 'info') }),
  metrics: object({ address: optional(endpoint()) }),
});
const pipelineSchema = object({
  receivers: list(str(undefined, { nonEmpty: true }), undefined, { nonEmpty: true }),
  processors: list(str(undefined, { nonEmpty: true }), []),
  exporters: list(str(undefined, { nonEmpty: true }), undefined, { nonEmpty: true }),
});

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// `${env:NAME}` / `${env:NAME:-default}` inside string values, resolved before validation.
function expandEnv(v: unknown, path: string, env: NodeJS.ProcessEnv): unknown {
  if (typeof v === 'string') {
    return v.replace(/\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_, name: string, def: string | undefined) => {
      const val = env[name] ?? def;
      if (val === undefined) throw new ConfigError(path, `environment variable ${name} is not set (write \${env:${name}:-default} to give a default)`);
      return val;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => expandEnv(x, `${path}[${i}]`, env));
  if (isMap(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expandEnv(x, path ? `${path}.${k}` : k, env)]));
  return v;
}

export function loadConfigFile(file: string, registry: Registry, env = process.env): CollectorConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError('', `cannot read config file ${file}: ${(e as Error).message}`);
  }
  return parseConfig(text, registry, env, file);
}

export function parseConfig(yamlText: string, registry: Registry, env = process.env, source = 'config'): CollectorConfig {
  let doc: unknown;
  try {
    doc = parseYaml(yamlText, { prettyErrors: true, uniqueKeys: true });
  } catch (e) {
    const msg = e instanceof YAMLParseError ? e.message : String(e);
    throw new ConfigError('', `${source} is not valid YAML: ${msg}`);
  }
  if (doc === null || doc === undefined) doc = {};
  if (!isMap(doc)) throw new ConfigError('', `${source}: the top level must be a map`);
  doc = expandEnv(doc, '', env);
  const top = doc as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key !== 'service' && !(SECTIONS as readonly string[]).includes(key)) {
      throw new ConfigError(key, `unknown top-level section (known: ${[...SECTIONS, 'service'].join(', ')})`);
    }
  }

  const parsed = {} as Record<(typeof SECTIONS)[number], Map<string, ComponentConfig>>;
  for (const section of SECTIONS) {
    const kind = KIND_OF[section];
    const raw = top[section] ?? {};
    if (!isMap(raw)) throw new ConfigError(section, 'must be a map of component id to its settings');
    const m = new Map<string, ComponentConfig>();
    for (const [key, value] of Object.entries(raw)) {
      const path = `${section}.${key}`;
      const id = parseComponentId(key, path);
      const factory = registry.get(kind, id.type);
      if (!factory) {
        const known = registry.types(kind);
        throw new ConfigError(path, `unknown ${kind} type "${id.type}" (known ${kind} types: ${known.join(', ') || 'none'})`);
      }
      m.set(key, { id, kind, factory, config: factory.config.parse(value ?? {}, path) });
    }
    parsed[section] = m;
  }

  const svc = top.service ?? {};
  if (!isMap(svc)) throw new ConfigError('service', 'must be a map');
  for (const key of Object.keys(svc)) {
    if (!['extensions', 'pipelines', 'telemetry'].includes(key)) {
      throw new ConfigError(`service.${key}`, 'unknown field (known fields: extensions, pipelines, telemetry)');
    }
  }
  const extensions = list(str(undefined, { nonEmpty: true }), []).parse(svc.extensions, 'service.extensions');
  extensions.forEach((e, i) => {
    if (!parsed.extensions.has(e)) throw new ConfigError(`service.extensions[${i}]`, `"${e}" is not defined under extensions`);
    if (extensions.indexOf(e) !== i) throw new ConfigError(`service.extensions[${i}]`, `"${e}" is listed twice`);
  });
  const telemetry = telemetrySchema.parse(svc.telemetry, 'service.telemetry');

  const rawPipes = svc.pipelines;
  if (!isMap(rawPipes) || Object.keys(rawPipes).length === 0) {
    throw new ConfigError('service.pipelines', 'must define at least one pipeline (traces, metrics or logs [/name])');
  }
  const pipelines: PipelineConfig[] = [];
  for (const [pid, raw] of Object.entries(rawPipes)) {
    const path = `service.pipelines.${pid}`;
    const signal = pid.split('/')[0]!;
    if (!(SIGNALS as readonly string[]).includes(signal) || (pid.includes('/') && pid.split('/')[1] === '')) {
      throw new ConfigError(path, `unknown pipeline "${pid}": a pipeline id is traces, metrics or logs, optionally /name`);
    }
    const p = pipelineSchema.parse(raw, path);
    pipelines.push({ id: pid, signal: signal as Signal, ...p });
  }

  const config: CollectorConfig = { ...parsed, service: { extensions, pipelines, telemetry } };
  checkPipelines(config);
  return config;
}

function checkPipelines(c: CollectorConfig): void {
  const dupes = (ids: string[], path: string) => ids.forEach((x, i) => {
    if (ids.indexOf(x) !== i) throw new ConfigError(`${path}[${i}]`, `"${x}" is listed twice`);
  });
  for (const p of c.service.pipelines) {
    const path = `service.pipelines.${p.id}`;
    dupes(p.receivers, `${path}.receivers`);
    dupes(p.processors, `${path}.processors`);
    dupes(p.exporters, `${path}.exporters`);
    p.receivers.forEach((r, i) => {
      const at = `${path}.receivers[${i}]`;
      const rc = c.receivers.get(r);
      const cc = c.connectors.get(r);
      if (!rc && !cc) throw new ConfigError(at, `"${r}" is not defined under receivers or connectors`);
      if (rc && !(rc.factory as { signals: readonly Signal[] }).signals.includes(p.signal)) {
        throw new ConfigError(at, `receiver "${r}" does not support ${p.signal}`);
      }
      if (cc) {
        const pairs = (cc.factory as { pairs: readonly (readonly [Signal, Signal])[] }).pairs;
        const feeders = c.service.pipelines.filter((q) => q.exporters.includes(r));
        if (feeders.length === 0) throw new ConfigError(at, `connector "${r}" is used as a receiver but no pipeline exports to it`);
        if (!feeders.some((q) => pairs.some(([f, t]) => f === q.signal && t === p.signal))) {
          throw new ConfigError(at, `connector "${r}" cannot produce ${p.signal} from ${feeders.map((q) => q.signal).join('/')} (supports ${pairs.map(([f, t]) => `${f}→${t}`).join(', ')})`);
        }
      }
    });
    p.processors.forEach((x, i) => {
      const pc = c.processors.get(x);
      const at = `${path}.processors[${i}]`;
      if (!pc) throw new ConfigError(at, `"${x}" is not defined under processors`);
      if (!(pc.factory as { signals: readonly Signal[] }).signals.includes(p.signal)) throw new ConfigError(at, `processor "${x}" does not support ${p.signal}`);
    });
    p.exporters.forEach((x, i) => {
      const at = `${path}.exporters[${i}]`;
      const ec = c.exporters.get(x);
      const cc = c.connectors.get(x);
      if (!ec && !cc) throw new ConfigError(at, `"${x}" is not defined under exporters or connectors`);
      if (ec && !(ec.factory as { signals: readonly Signal[] }).signals.includes(p.signal)) throw new ConfigError(at, `exporter "${x}" does not support ${p.signal}`);
      if (cc) {
        const pairs = (cc.factory as { pairs: readonly (readonly [Signal, Signal])[] }).pairs;
        const sinks = c.service.pipelines.filter((q) => q.receivers.includes(x));
        if (sinks.length === 0) throw new ConfigError(at, `connector "${x}" is used as an exporter but no pipeline receives from it`);
        if (!sinks.some((q) => pairs.some(([f, t]) => f === p.signal && t === q.signal))) {
          throw new ConfigError(at, `connector "${x}" cannot consume ${p.signal} into ${sinks.map((q) => q.signal).join('/')} (supports ${pairs.map(([f, t]) => `${f}→${t}`).join(', ')})`);
        }
      }
    });
  }
}
