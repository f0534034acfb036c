// The agent's wiring: kernel capture → protocol engine → spans + RED metrics → OTLP, with /metrics,
// /healthz and /readyz, and NAT resolution from conntrack. `sockeye agent` (cli/agent-command.ts)
// parses the flags and config and calls startAgent.
import { existsSync } from 'node:fs';
import type { AgentConfig } from './config/agent-config.js';
import { cgroupId } from './config/agent-config.js';
import type { KernelCapture, KernelCaptureOptions } from './capture/kernel-capture.js';
import { ProtocolEngine } from './protocols/engine/protocol-engine.js';
import { createBootClock } from './signals/boot-clock.js';
import { createMetricExporter, createSpanExporter } from './export/otlp-exporters.js';
import { SignalPipeline } from './signals/signal-pipeline.js';
import { exportPorts } from './signals/own-sockets.js';
import { TelemetryRegistry } from '../common/telemetry/telemetry-registry.js';
import { TelemetryServer } from './telemetry/telemetry-server.js';
import type { ConntrackCounters, ConntrackWatcherOptions } from './conntrack/conntrack-watcher.js';
import type { NatLookup } from './conntrack/nat-span-attributes.js';
import { startNetworkHealth, type NetworkHealthLike } from './network-health/start-network-health.js';
import { startExecTable } from './process-exec/start-exec-table.js';
import { startSampling, type Sampling } from './sampling/start-sampling.js';

/** The part of KernelCapture the agent uses (tests hand startAgent a stand-in of this shape). */
export type Capture = Pick<KernelCapture, 'attachments' | 'onEvents' | 'counters' | 'close'>;
export type CaptureOpener = (opts: KernelCaptureOptions) => Promise<Capture>;

/** Loads the kernel capture when the agent starts (the native addon is needed by nothing else). */
export const openKernelCapture: CaptureOpener = async (opts) => {
  const { KernelCapture } = await import('./capture/kernel-capture.js');
  return KernelCapture.open(opts);
};

/** What the agent needs of agent/conntrack/conntrack-watcher.ts. */
export interface NatWatcherLike extends NatLookup {
  counters(): ConntrackCounters;
  close(): void;
}
export type NatWatcherOpener = (opts: ConntrackWatcherOptions) => Promise<NatWatcherLike>;

export const openConntrackWatcher: NatWatcherOpener = async (opts) => {
  const { ConntrackWatcher } = await import('./conntrack/conntrack-watcher.js');
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

/** Whether the live terminal view runs: 'on', or 'auto' with a terminal on stdout. */
export function liveViewShown(cfg: AgentConfig): boolean {
  return cfg.liveView === 'on' || (cfg.liveView === 'auto' && process.stdout.isTTY === true);
}

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

export interface RunningAgent {
  telemetry: TelemetryRegistry;
  pipeline: SignalPipeline;
  server: TelemetryServer;
  capture: Capture;
  /** Undefined when NAT resolution is off or could not start. */
  nat?: NatWatcherLike;
  /** Undefined when network health is off or the kernel cannot run it. */
  network?: NetworkHealthLike;
  /** The span sampler and, unless sampling.probability fixes it, the CPU budget controller. */
  sampling: Sampling;
  stop(): Promise<void>;
}

export async function startAgent(cfg: AgentConfig, log: (line: string) => void, open: CaptureOpener = openKernelCapture,
  openNat: NatWatcherOpener = openConntrackWatcher): Promise<RunningAgent> {
  // What is opened is undone in reverse order if a later step fails: a start that fails leaves
  // nothing attached and nothing (timer, socket, poller) that would keep the process alive.
  const undo: Array<() => unknown> = [];
  try {
    return await startParts(cfg, log, open, openNat, undo);
  } catch (e) {
    for (const step of undo.reverse()) {
      try { await step(); } catch { /* keep undoing: the first failure is the one to report */ }
    }
    throw e;
  }
}

async function startParts(cfg: AgentConfig, log: (line: string) => void, open: CaptureOpener, openNat: NatWatcherOpener,
  undo: Array<() => unknown>): Promise<RunningAgent> {
  const telemetry = new TelemetryRegistry();
  const nat = await startNat(cfg, log, openNat);
  if (nat) undo.push(() => nat.close());
  telemetry.register('sockeye_conntrack', 'NAT resolution (conntrack watcher) counters: events, lookups, lookupHits, malformed, overruns, ..., by counter.', 'counter',
    () => nat ? Object.entries(nat.counters()).filter(([k]) => k !== 'natEntries').map(([k, v]) => ({ labels: { counter: k }, value: v })) : []);
  telemetry.register('sockeye_conntrack_nat_entries', 'Translated (DNATed) connections the conntrack watcher holds.', 'gauge',
    () => nat ? [{ value: nat.counters().natEntries }] : []);
  // Before the capture: every process exec'd from now on is in the table before its first event.
  const execs = await startExecTable(log);
  if (execs) undo.push(() => execs.close());
  telemetry.register('sockeye_process_exec_lookups_total', 'Lookups of the executable the kernel recorded at exec, once per process seen, by result (hit; miss: exec\'d before the agent or not recorded; stale: an earlier process with the same pid; truncated: path longer than 255 bytes).', 'counter',
    () => execs ? [{ labels: { result: 'hit' }, value: execs.counts.hits }, { labels: { result: 'stale' }, value: execs.counts.stale },
      { labels: { result: 'truncated' }, value: execs.counts.truncated },
      { labels: { result: 'miss' }, value: execs.counts.lookups - execs.counts.hits - execs.counts.stale - execs.counts.truncated }] : []);
  const clock = createBootClock();
  const target = { protocol: cfg.export.protocol, endpoint: cfg.export.endpoint, timeoutMs: cfg.export.timeoutMs };
  const sampling = startSampling(cfg.sampling, telemetry);
  undo.push(() => sampling.controller?.stop());
  const pipeline = new SignalPipeline({
    telemetry, clock, sampler: sampling.sampler,
    spanExporter: cfg.export.enabled ? createSpanExporter(target, 'fast', { telemetry }) : undefined,
    metricExporter: cfg.export.enabled ? createMetricExporter(target) : undefined,
    metricExportIntervalMs: cfg.export.metricIntervalMs, exportTimeoutMs: cfg.export.timeoutMs,
    spanQueueSize: cfg.export.spanQueueSize, spanQueueBytes: cfg.export.spanQueueBytes, spanBatchSize: cfg.export.spanBatchSize, spanDelayMs: cfg.export.spanDelayMs,
    maxRoutesPerService: cfg.signals.maxRoutesPerService, maxLabelValuesPerService: cfg.signals.maxLabelValuesPerService, maxServices: cfg.signals.maxServices, linkWaitMs: cfg.signals.linkWaitMs,
    excludeOwnPeers: cfg.capture.excludeSelf, exportPorts: exportPorts(cfg.export.endpoint), nat, natMissWaitMs: cfg.conntrack.missWaitMs,
    liveStats: liveViewShown(cfg), execs,
  });
  undo.push(() => pipeline.shutdown());
  // Listen before loading anything: a taken address fails the start at once, with nothing attached.
  let running = true;
  let attachedCount: number | undefined; // undefined while the programs load
  let network: NetworkHealthLike | undefined;
  const server = await TelemetryServer.start({
    listen: cfg.listen,
    metrics: function* () {
      yield* pipeline.metrics.prometheusChunks();
      yield (network?.renderPrometheus() ?? '') + telemetry.render();
    },
    notReadyReason: () => (!running ? 'shutting down' : attachedCount === undefined ? 'starting: loading capture programs'
      : attachedCount === 0 ? 'no capture program attached' : undefined),
  });
  undo.push(() => server.close());
  const engine = new ProtocolEngine({ requestTimeoutNs: cfg.engine.requestTimeoutMs * 1e6, maxConnections: cfg.engine.maxConnections },
    (tx) => pipeline.onTransaction(tx), undefined, (connId) => pipeline.connectionClosed(connId));
  telemetry.register('sockeye_engine', 'Protocol engine counters (events, parse errors, gaps, evictions, ...), by counter.', 'counter',
    () => Object.entries(engine.counters()).filter(([k]) => k !== 'engine_open_connections').map(([k, v]) => ({ labels: { counter: k }, value: v })));
  telemetry.register('sockeye_open_connections', 'Connections the protocol engine tracks.', 'gauge', () => [{ value: engine.openConnections }]);

  const captureOpts: KernelCaptureOptions = { excludeSelf: cfg.capture.excludeSelf };
  if (cfg.capture.payloadCap) captureOpts.payloadCap = cfg.capture.payloadCap;
  if (cfg.capture.ringBufferBytes) captureOpts.ringBufferBytes = cfg.capture.ringBufferBytes;
  if (cfg.capture.includePids.length) captureOpts.includePids = cfg.capture.includePids;
  if (cfg.capture.excludePids.length) captureOpts.excludePids = cfg.capture.excludePids;
  // Ids are read now: a cgroup removed and made again later is a new cgroup with a new id.
  if (cfg.capture.includeCgroups.length) captureOpts.includeCgroupIds = cfg.capture.includeCgroups.map(cgroupId);
  if (cfg.capture.excludeCgroups.length) captureOpts.excludeCgroupIds = cfg.capture.excludeCgroups.map(cgroupId);
  const capture = await open(captureOpts);
  undo.push(() => { capture.close(); log('start failed: capture programs detached'); });
  telemetry.register('sockeye_capture', 'Kernel capture counters (events, lost events, decode errors, ...), by counter.', 'counter',
    () => Object.entries(capture.counters()).map(([k, v]) => ({ labels: { counter: k }, value: v })));

  const attached = capture.attachments.filter((a) => a.attached);
  log(`attached ${attached.length} of ${capture.attachments.length} capture programs: ${attached.map((a) => a.program.replace(/^sockeye_/, '')).join(' ')}`);
  for (const a of capture.attachments) if (!a.attached) log(`NOT attached ${a.program} (${a.section}): ${a.error ?? 'unknown reason'}`);
  if (attached.length === 0) log('no capture program attached: no traffic will be seen');

  capture.onEvents((events) => {
    // Identify processes while they live: short-lived clients (curl, dig) are often gone by the
    // time their transaction completes. A cache hit is one Map lookup.
    const now = Date.now(); // once per batch: TTLs and link deadlines read it (batch-clock.ts)
    pipeline.batchClock.set(now);
    for (let i = 0; i < events.length; i++) pipeline.resources.get(events[i]!.process, events[i]!.tsNs, now);
    engine.push(events);
  });
  const housekeeping = setInterval(() => {
    engine.tick(Date.now() * 1e6 - clock.bootEpochNs);
    pipeline.tick();
  }, 100);
  undo.push(() => clearInterval(housekeeping));

  network = await startNetworkHealth(cfg, log, { telemetry, identities: pipeline.resources,
    exporter: cfg.export.enabled ? createMetricExporter(target) : undefined });
  if (network) undo.push(() => network.stop());
  pipeline.resets = network?.resets;

  log(`serving /metrics, /healthz, /readyz on http://${server.address}`);
  log(cfg.export.enabled ? `exporting OTLP over ${cfg.export.protocol} to ${exportTargetText(cfg, process.env)}` : 'OTLP export disabled');
  attachedCount = attached.length; // ready: everything started
  sampling.controller?.start(); // the budget counts from here, not the start-up's program loading

  let stopped: Promise<void> | undefined;
  const stop = () => (stopped ??= (async () => {
    running = false;
    clearInterval(housekeeping);
    sampling.controller?.stop();
    capture.close();
    await network?.stop();
    engine.closeAll(Date.now() * 1e6 - clock.bootEpochNs); // end what is still open now, counted by the engine
    await pipeline.shutdown();
    nat?.close(); // after the last spans were built: they still look their connections up
    execs?.close(); // likewise: the last spans' processes are looked up there
    await server.close();
  })());
  return { telemetry, pipeline, server, capture, nat, network, sampling, stop };
}
