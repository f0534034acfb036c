// `sockeye agent`: kernel capture → protocol engine → spans + RED metrics → OTLP, with /metrics,
// /healthz, /readyz and an optional live terminal view. Logs go to stderr; the live view to stdout.
import { existsSync } from 'node:fs';
import type { Command } from './main.js';
import type { CaptureEvent, CaptureCounters } from '../capture/capture-events.js';
import { ConfigError, FIELDS, cgroupId, loadAgentConfig, type AgentConfig } from '../config/agent-config.js';
import { ProtocolEngine } from '../protocols/engine/protocol-engine.js';
import { createBootClock } from '../signals/boot-clock.js';
import { createMetricExporter, createSpanExporter } from '../signals/otlp-exporters.js';
import { SignalPipeline } from '../signals/signal-pipeline.js';
import { exportPorts } from '../signals/own-sockets.js';
import { SelfTelemetry } from '../telemetry/self-telemetry.js';
import { TelemetryServer } from '../telemetry/telemetry-server.js';
import { LiveView, renderLiveView } from './live-view.js';
import type { ConntrackCounters, ConntrackWatcherOptions } from '../conntrack/conntrack-watcher.js';
import type { NatLookup } from '../conntrack/nat-span-attributes.js';
import { startNetworkHealth, type NetworkHealthLike } from '../network-health/start-network-health.js';

/** The capture API as agreed with the capture engineers (agent/capture/kernel-capture.ts). */
export interface CaptureLike {
  attachments: Array<{ program: string; section: string; attached: boolean; error?: string }>;
  onEvents(cb: (events: CaptureEvent[]) => void): void;
  counters(): CaptureCounters;
  close(): void;
}
export type CaptureOpener = (opts: Record<string, unknown>) => Promise<CaptureLike>;

/** What the agent needs of agent/conntrack/conntrack-watcher.ts. */
export interface NatWatcherLike extends NatLookup {
  counters(): ConntrackCounters;
  close(): void;
}
export type NatWatcherOpener = (opts: ConntrackWatcherOptions) => Promise<NatWatcherLike>;

export const openConntrackWatcher: NatWatcherOpener = async (opts) => {
  const { ConntrackWatcher } = await import('../conntrack/conntrack-watcher.js');
  return ConntrackWatcher.start(opts);
};

/**
 * Starts NAT resolution, or explains in one log line why the agent runs without it: NAT resolution
 * improves spans but is never worth failing the agent over (no CAP_NET_ADMIN, no nf_conntrack_netlink).
 */
export async function startNat(cfg: AgentConfig, log: (line: string) => void, open: NatWatcherOpener): Promise<NatWatcherLike | undefined> {
  if (!cfg.conntrack.enabled) { log('NAT resolution disabled (conntrack.enabled: false)'); return undefined; }
  const where = cfg.conntrack.netnsPath ?? "the agent's network namespace";
  if (cfg.conntrack.netnsPath && !existsSync(cfg.conntrack.netnsPath)) {
    log(`NAT resolution off: conntrack.netns_path ${cfg.conntrack.netnsPath} does not exist; running without it`);
    return undefined;
  }
  // Later socket trouble (a relay that dies, ENOBUFS) is counted; only the first few are logged.
  let logged = 0;
  const onError = (e: Error) => { if (logged++ < 3) log(`conntrack: ${e.message}${logged === 3 ? ' (further errors only counted)' : ''}`); };
  try {
    const w = await open({ netnsPath: cfg.conntrack.netnsPath, onError });
    log(`NAT resolution on: following conntrack in ${where}`);
    return w;
  } catch (e) {
    log(`NAT resolution off: cannot follow conntrack in ${where} (${(e as Error).message}; needs CAP_NET_ADMIN and nf_conntrack_netlink); running without it`);
    return undefined;
  }
}

/** Loads the kernel capture lazily (the addon is only needed by this command). */
export const openKernelCapture: CaptureOpener = async (opts) => {
  const modulePath = '../capture/kernel-capture.js';
  const mod = (await import(modulePath)) as { KernelCapture: { open(o: Record<string, unknown>): CaptureLike } };
  return mod.KernelCapture.open(opts);
};

export const FLAGS: Array<[string, string, string]> = [
  ['--config FILE', '', 'YAML config file (keys below; nested under their section)'],
  ['--listen HOST:PORT', 'listen', ''],
  ['--endpoint URL', 'export.endpoint', ''],
  ['--protocol P', 'export.protocol', ''],
  ['--no-export', 'export.enabled', 'do not export over OTLP (live view and /metrics only)'],
  ['--live / --no-live', 'live_view', ''],
];

/** Where spans and metrics go, as the exporters will resolve it (config, then the OTEL_* variables, then the default). */
export function exportTargetText(cfg: AgentConfig, env: NodeJS.ProcessEnv): string {
  if (cfg.export.endpoint) return cfg.export.endpoint;
  const http = cfg.export.protocol === 'http/protobuf';
  const general = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const base = general || (http ? 'http://localhost:4318' : 'http://localhost:4317');
  const from = general ? ' (OTEL_EXPORTER_OTLP_ENDPOINT)' : ' (the default)';
  const perSignal = (name: 'TRACES' | 'METRICS', path: string) => {
    const v = env[`OTEL_EXPORTER_OTLP_${name}_ENDPOINT`]?.trim();
    return v ? `${v} (OTEL_EXPORTER_OTLP_${name}_ENDPOINT)` : `${http ? base.replace(/\/+$/, '') + path : base}${from}`;
  };
  const traces = perSignal('TRACES', '/v1/traces');
  const metrics = perSignal('METRICS', '/v1/metrics');
  return traces === metrics ? traces : `traces ${traces}, metrics ${metrics}`;
}

/** Whether the live terminal view runs: 'on', or 'auto' with a terminal on stdout. */
function liveViewShown(cfg: AgentConfig): boolean {
  return cfg.liveView === 'on' || (cfg.liveView === 'auto' && process.stdout.isTTY === true);
}

/** Per-signal variables the agent cannot honour: one exporter config serves both signals. */
const UNUSED_PER_SIGNAL_ENV = ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT'];

export function agentHelp(): string {
  const lines = ['usage: sockeye agent [--config FILE] [flags]', '',
    'Turns HTTP/1.1, HTTP/2, gRPC and DNS traffic on this node into OTLP spans and RED metrics.', '', 'flags:'];
  for (const [flag, key, text] of FLAGS) lines.push(`  ${flag.padEnd(22)} ${text || `sets ${key}`}`);
  lines.push('', 'config keys (YAML; precedence: defaults < OTEL_* environment < file < flags):');
  for (const f of FIELDS) lines.push(`  ${f.key.padEnd(32)} ${f.help} [default: ${f.def}]`);
  lines.push('', 'environment: OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,HEADERS,COMPRESSION},',
    '  OTEL_EXPORTER_OTLP_PROTOCOL and OTEL_EXPORTER_OTLP_TIMEOUT (one protocol and timeout for both signals;',
    '  the per-signal forms are reported at start as not used), OTEL_METRIC_EXPORT_INTERVAL,',
    '  OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none with OTEL_METRICS_EXPORTER=none (no export).',
    '', 'endpoints: /metrics (Prometheus text), /healthz, /readyz on the listen address.');
  return lines.join('\n');
}

export function parseAgentArgs(args: string[]): { file?: string; overrides: Record<string, unknown>; help: boolean } {
  const overrides: Record<string, unknown> = {};
  let file: string | undefined;
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const [name, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new ConfigError(name, 'needs a value', 'flags');
      return v;
    };
    switch (name) {
      case '-h': case '--help': help = true; break;
      case '--config': file = value(); break;
      case '--listen': overrides.listen = value(); break;
      case '--endpoint': overrides['export.endpoint'] = value(); break;
      case '--protocol': overrides['export.protocol'] = value(); break;
      case '--no-export': overrides['export.enabled'] = false; break;
      case '--live': overrides.live_view = 'on'; break;
      case '--no-live': overrides.live_view = 'off'; break;
      default: throw new ConfigError(name, 'unknown flag (see sockeye agent --help)', 'flags');
    }
  }
  return { file, overrides, help };
}

export interface RunningAgent {
  telemetry: SelfTelemetry;
  pipeline: SignalPipeline;
  server: TelemetryServer;
  capture: CaptureLike;
  /** Undefined when NAT resolution is off or could not start. */
  nat?: NatWatcherLike;
  /** Undefined when network health is off or the kernel cannot run it. */
  network?: NetworkHealthLike;
  stop(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig, log: (line: string) => void, open: CaptureOpener = openKernelCapture,
  openNat: NatWatcherOpener = openConntrackWatcher): Promise<RunningAgent> {
  const telemetry = new SelfTelemetry();
  const nat = await startNat(cfg, log, openNat);
  telemetry.register('sockeye_conntrack', 'NAT resolution (conntrack watcher) counters: events, lookups, lookupHits, malformed, overruns, ..., by counter.', 'counter',
    () => nat ? Object.entries(nat.counters()).filter(([k]) => k !== 'natEntries').map(([k, v]) => ({ labels: { counter: k }, value: v })) : []);
  telemetry.register('sockeye_conntrack_nat_entries', 'Translated (DNATed) connections the conntrack watcher holds.', 'gauge',
    () => nat ? [{ value: nat.counters().natEntries }] : []);
  const clock = createBootClock();
  const target = { protocol: cfg.export.protocol, endpoint: cfg.export.endpoint, timeoutMs: cfg.export.timeoutMs };
  const pipeline = new SignalPipeline({
    telemetry, clock,
    spanExporter: cfg.export.enabled ? createSpanExporter(target, 'fast', { telemetry }) : undefined,
    metricExporter: cfg.export.enabled ? createMetricExporter(target) : undefined,
    metricExportIntervalMs: cfg.export.metricIntervalMs, exportTimeoutMs: cfg.export.timeoutMs,
    spanQueueSize: cfg.export.spanQueueSize, spanBatchSize: cfg.export.spanBatchSize, spanDelayMs: cfg.export.spanDelayMs,
    maxRoutesPerService: cfg.signals.maxRoutesPerService, maxServices: cfg.signals.maxServices, linkWaitMs: cfg.signals.linkWaitMs,
    excludeOwnPeers: cfg.capture.excludeSelf, exportPorts: exportPorts(cfg.export.endpoint), nat, natMissWaitMs: cfg.conntrack.missWaitMs,
    liveStats: liveViewShown(cfg),
  });
  const engine = new ProtocolEngine({ requestTimeoutNs: cfg.engine.requestTimeoutMs * 1e6, maxConnections: cfg.engine.maxConnections },
    (tx) => pipeline.onTransaction(tx));
  telemetry.register('sockeye_engine', 'Protocol engine counters (events, parse errors, gaps, evictions, ...), by counter.', 'counter',
    () => Object.entries(engine.counters()).filter(([k]) => k !== 'engine_open_connections').map(([k, v]) => ({ labels: { counter: k }, value: v })));
  telemetry.register('sockeye_open_connections', 'Connections the protocol engine tracks.', 'gauge', () => [{ value: engine.openConnections }]);

  const captureOpts: Record<string, unknown> = { excludeSelf: cfg.capture.excludeSelf };
  if (cfg.capture.payloadCap) captureOpts.payloadCap = cfg.capture.payloadCap;
  if (cfg.capture.ringBufferBytes) captureOpts.ringBufferBytes = cfg.capture.ringBufferBytes;
  if (cfg.capture.includePids.length) captureOpts.includePids = cfg.capture.includePids;
  if (cfg.capture.excludePids.length) captureOpts.excludePids = cfg.capture.excludePids;
  // Ids are read now: a cgroup removed and made again later is a new cgroup with a new id.
  if (cfg.capture.includeCgroups.length) captureOpts.includeCgroupIds = cfg.capture.includeCgroups.map(cgroupId);
  if (cfg.capture.excludeCgroups.length) captureOpts.excludeCgroupIds = cfg.capture.excludeCgroups.map(cgroupId);
  let capture: CaptureLike;
  try { capture = await open(captureOpts); } catch (e) { nat?.close(); throw e; }
  telemetry.register('sockeye_capture', 'Kernel capture counters (events, lost events, decode errors, ...), by counter.', 'counter',
    () => Object.entries(capture.counters()).map(([k, v]) => ({ labels: { counter: k }, value: v })));

  const attached = capture.attachments.filter((a) => a.attached);
  log(`attached ${attached.length} of ${capture.attachments.length} capture programs: ${attached.map((a) => a.program.replace(/^sockeye_/, '')).join(' ')}`);
  for (const a of capture.attachments) if (!a.attached) log(`NOT attached ${a.program} (${a.section}): ${a.error ?? 'unknown reason'}`);
  if (attached.length === 0) log('no capture program attached: no traffic will be seen');

  capture.onEvents((events) => {
    // Identify processes while they live: short-lived clients (curl, dig) are often gone by the
    // time their transaction completes. A cache hit is one Map lookup.
    for (let i = 0; i < events.length; i++) pipeline.resources.get(events[i]!.process);
    engine.push(events);
  });
  const housekeeping = setInterval(() => {
    engine.tick(Date.now() * 1e6 - clock.bootEpochNs);
    pipeline.tick();
  }, 100);

  const network = await startNetworkHealth(cfg, log, { telemetry, identities: pipeline.resources,
    exporter: cfg.export.enabled ? createMetricExporter(target) : undefined });

  let running = true;
  const server = await TelemetryServer.start({
    listen: cfg.listen,
    metrics: async () => (await pipeline.metrics.renderPrometheus()) + (network?.renderPrometheus() ?? '') + telemetry.render(),
    notReadyReason: () => (!running ? 'shutting down' : attached.length === 0 ? 'no capture program attached' : undefined),
  });
  log(`serving /metrics, /healthz, /readyz on http://${server.address}`);
  log(cfg.export.enabled ? `exporting OTLP over ${cfg.export.protocol} to ${exportTargetText(cfg, process.env)}` : 'OTLP export disabled');

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    running = false;
    clearInterval(housekeeping);
    capture.close();
    await network?.stop();
    engine.closeAll(Date.now() * 1e6 - clock.bootEpochNs); // end what is still open now, counted by the engine
    await pipeline.shutdown();
    nat?.close(); // after the last spans were built: they still look their connections up
    await server.close();
  })());
  return { telemetry, pipeline, server, capture, nat, network, stop };
}

export const command: Command = {
  summary: 'run the node agent: capture traffic, export OTLP spans and RED metrics',
  async run(args: string[]): Promise<number> {
    let cfg: AgentConfig;
    try {
      const parsed = parseAgentArgs(args);
      if (parsed.help) { console.log(agentHelp()); return 0; }
      cfg = loadAgentConfig({ file: parsed.file, overrides: parsed.overrides });
    } catch (e) {
      if (e instanceof ConfigError) { console.error(`sockeye agent: ${e.message}`); return 2; }
      throw e;
    }
    const log = (l: string) => process.stderr.write(`sockeye agent: ${l}\n`);
    // Listen before starting: a SIGTERM while the programs load (seconds) must still end in a clean
    // stop, not kill the agent half-attached. A second signal gets the default (immediate exit).
    let signalled: string | undefined;
    let wake: (() => void) | undefined;
    const onSignal = (sig: string) => { if (signalled) return; signalled = sig; log(`${sig}: flushing and detaching`); wake?.(); };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    for (const v of UNUSED_PER_SIGNAL_ENV) {
      if (process.env[v]?.trim()) log(`${v} is not used: both signals go out with one protocol and timeout (export.protocol, export.timeout_ms, or OTEL_EXPORTER_OTLP_PROTOCOL / _TIMEOUT)`);
    }
    let agent: RunningAgent;
    try {
      agent = await startAgent(cfg, log);
    } catch (e) {
      log(`cannot start: ${(e as Error).message}`);
      return 1;
    }
    const started = Date.now();
    const live = liveViewShown(cfg)
      ? new LiveView(() => renderLiveView(agent.pipeline.live.rows(), {
        uptimeS: (Date.now() - started) / 1000,
        exportTarget: cfg.export.enabled ? `${cfg.export.protocol} ${exportTargetText(cfg, process.env)}` : 'off',
        metricsUrl: `http://${agent.server.address}/metrics`,
        counters: [['spans', agent.telemetry.get('sockeye_spans_total')], ['exported', agent.telemetry.get('sockeye_spans_exported_total')],
          ['lost', agent.telemetry.get('sockeye_capture', { counter: 'lostEvents' })]],
      }))
      : undefined;
    if (!signalled) {
      live?.start(cfg.liveViewRefreshMs);
      await new Promise<void>((resolve) => { wake = resolve; });
    }
    live?.stop();
    await agent.stop();
    log('stopped');
    return 0;
  },
};
