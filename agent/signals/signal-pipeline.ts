// Transactions in, spans + RED metrics + live-view stats out. Never throws into the caller: a
// transaction that cannot be turned into signals is counted and skipped.
import type { PushMetricExporter } from '@opentelemetry/sdk-metrics';
import type { SpanExporter } from '@opentelemetry/sdk-trace';
import type { Transaction } from '../protocols/transaction.js';
import type { TelemetryRegistry } from '../../common/telemetry/telemetry-registry.js';
import { createBootClock, type BootClock } from './boot-clock.js';
import { LiveStats } from './live-stats.js';
import { PeerLinker } from './peer-linker.js';
import { ProcessResources } from './process-resource.js';
import { CgroupPathIndex } from './cgroup-path-index.js';
import type { ExecLookup } from '../process-exec/exec-table.js';
import { RedMetrics } from './red-metrics.js';
import { RouteRegistry } from './route-template.js';
import { LabelCap, OVERFLOW_VALUE } from './label-cap.js';
import { SpanBuilder } from './span-builder.js';
import { SpanExport } from '../export/span-export.js';
import { OwnSockets } from './own-sockets.js';
import type { TxSpan } from './tx-span.js';
import type { CarriedContext } from './trace-context.js';
import type { NatLookup } from '../conntrack/nat-span-attributes.js';
import { NatLateLookup } from './nat-late-lookup.js';
import { BatchClock } from './batch-clock.js';
import { markConnectionReset, type ConnectionResetLookup } from './connection-reset.js';
import { ConsistentSampler } from '../sampling/consistent-sampler.js';
import { parseTracestate } from '../sampling/ot-tracestate.js';
import { registerSamplerTelemetry } from '../sampling/sampling-telemetry.js';

export interface SignalPipelineOptions {
  telemetry: TelemetryRegistry;
  clock?: BootClock;
  /** Absent: spans are built (live view, linking) but not exported. */
  spanExporter?: SpanExporter;
  metricExporter?: PushMetricExporter;
  metricExportIntervalMs?: number;
  exportTimeoutMs?: number;
  spanQueueSize?: number;
  /** Bound on the estimated encoded bytes of queued spans (agent/export/span-export.ts). */
  spanQueueBytes?: number;
  spanBatchSize?: number;
  spanDelayMs?: number;
  maxRoutesPerService?: number;
  /** Distinct values per service of each metric label taken from the wire (server.address, dns.question.name, rpc.method). */
  maxLabelValuesPerService?: number;
  maxServices?: number;
  linkWaitMs?: number;
  procRoot?: string;
  /** Executables the kernel recorded at exec, per tgid (agent/process-exec); absent: /proc only. */
  execs?: ExecLookup;
  /** Drop transactions whose peer is one of this process's own sockets (the agent's export traffic). */
  excludeOwnPeers?: boolean;
  /** Ports of the OTLP endpoints we export to (see own-sockets.ts). */
  exportPorts?: ReadonlySet<number>;
  /** Conntrack NAT table (ConntrackWatcher): client spans of DNATed connections get sockeye.nat.peer.*. */
  nat?: NatLookup;
  /** How long a client span whose NAT lookup missed waits for its conntrack event (then looked up again). Default 500. */
  natMissWaitMs?: number;
  /** Keep per-route statistics for the live terminal view (default true). Off when no view is
   *  shown: the recording is ≈1.4 % of the agent's CPU under load. */
  liveStats?: boolean;
  /** Decides which traces' spans are kept (agent/sampling); default: keep all, with ot=th:0. */
  sampler?: ConsistentSampler;
  /** Sees every finished span kept by sampling (tests, debugging). */
  onSpan?: (span: TxSpan) => void;
}

export class SignalPipeline {
  /** "About now" for TTLs and deadlines, set once per ring-buffer batch (batch-clock.ts). */
  readonly batchClock = new BatchClock();
  readonly live = new LiveStats(1000, 10, 2000, this.batchClock.now);
  private readonly liveOn: boolean;
  readonly metrics: RedMetrics;
  readonly resources: ProcessResources;
  private readonly routes: RouteRegistry;
  private readonly labelCap: LabelCap;
  private readonly builder: SpanBuilder;
  private readonly linker: PeerLinker;
  private readonly export?: SpanExport;
  private readonly t: TelemetryRegistry;
  private readonly own?: OwnSockets;
  private readonly natLate?: NatLateLookup<TxSpan>;
  private readonly clock: BootClock;
  /** Resets seen per connection (network health, set once it started): broken transactions get connection_reset. */
  resets?: ConnectionResetLookup;
  readonly sampler: ConsistentSampler;

  constructor(private readonly opts: SignalPipelineOptions) {
    this.t = opts.telemetry;
    this.liveOn = opts.liveStats ?? true;
    this.routes = new RouteRegistry(opts.maxRoutesPerService ?? 200);
    this.labelCap = new LabelCap(opts.maxLabelValuesPerService ?? 100);
    this.clock = opts.clock ?? createBootClock();
    this.builder = new SpanBuilder(this.clock, this.routes, opts.nat, this.labelCap);
    this.resources = new ProcessResources(opts.procRoot, undefined, undefined, new CgroupPathIndex(), opts.execs);
    this.metrics = new RedMetrics({ telemetry: this.t, exporter: opts.metricExporter, exportIntervalMs: opts.metricExportIntervalMs,
      maxServices: opts.maxServices });
    if (opts.spanExporter) {
      this.export = new SpanExport({ exporter: opts.spanExporter, telemetry: this.t, maxQueueSize: opts.spanQueueSize, maxQueueBytes: opts.spanQueueBytes,
        maxExportBatchSize: opts.spanBatchSize, scheduledDelayMillis: opts.spanDelayMs, exportTimeoutMillis: opts.exportTimeoutMs });
    }
    if (opts.nat) this.natLate = new NatLateLookup<TxSpan>(opts.nat, opts.natMissWaitMs ?? 500, (s) => this.release(s), opts.spanQueueSize, this.batchClock.now);
    this.linker = new PeerLinker((s) => this.emit(s), opts.linkWaitMs ?? 300, this.batchClock.now);
    if (opts.excludeOwnPeers) {
      this.own = new OwnSockets(opts.exportPorts);
      this.own.refresh();
    }
    const t = this.t;
    this.sampler = opts.sampler ?? new ConsistentSampler();
    registerSamplerTelemetry(t, this.sampler);
    t.register('sockeye_route_overflow_total', 'HTTP paths folded into the overflow route because the service hit its route cap.', 'counter', () => [{ value: this.routes.overflowed }]);
    t.register('sockeye_metric_label_overflow_total', `Metric label values from the wire folded into ${OVERFLOW_VALUE} because the service hit signals.max_label_values_per_service, by attribute.`, 'counter',
      () => [...this.labelCap.overflowed].map(([attribute, value]) => ({ labels: { attribute }, value })));
    t.register('sockeye_spans_linked_total', 'Server spans parented to a same-node client span without traceparent.', 'counter', () => [{ value: this.linker.counters.linked }]);
    t.register('sockeye_spans_link_timeout_total', 'Server spans with a possibly local peer whose client side never showed up in time.', 'counter', () => [{ value: this.linker.counters.waitedUnlinked }]);
    t.register('sockeye_traceparent_adopted_total', 'Spans that joined a trace carried in a W3C traceparent.', 'counter', () => [{ value: this.linker.counters.adoptedTraceparent }]);
    t.register('sockeye_live_view_entries_dropped_total', 'Records not shown in the live view because it hit its row cap.', 'counter', () => [{ value: this.live.dropped }]);
    t.register('sockeye_process_unreadable_total', 'Processes whose /proc entries were gone or unreadable and whose exec the kernel had not recorded (named from the process comm).', 'counter', () => [{ value: this.resources.unreadable }]);
    t.register('sockeye_process_named_from_exec_total', 'Processes gone from /proc (or not permitted) named from the executable the kernel recorded at their exec.', 'counter', () => [{ value: this.resources.namedFromExec }]);
    t.register('sockeye_cgroup_index_scans_total', 'Walks of the cgroup v2 mount to place processes that were gone before /proc was read.', 'counter', () => [{ value: this.resources.cgroups.scans }]);
    t.register('sockeye_cgroup_index_truncated_total', 'cgroup walks stopped at their directory bound (cgroups beyond it stay unknown).', 'counter', () => [{ value: this.resources.cgroups.truncatedScans }]);
    if (this.natLate) {
      const late = this.natLate;
      t.register('sockeye_nat_late_lookups_total', 'Client spans whose NAT lookup missed when built, looked up again after conntrack.miss_wait_ms, by result (hit: the conntrack event had arrived since; miss: not translated).', 'counter',
        () => [{ labels: { result: 'hit' }, value: late.lateHits }, { labels: { result: 'miss' }, value: late.misses }]);
      t.register('sockeye_nat_held_spans', 'Client spans waiting for a late NAT lookup.', 'gauge', () => [{ value: late.heldCount }]);
      t.register('sockeye_nat_released_early_total', 'Client spans released before their NAT wait was over because too many were waiting.', 'counter', () => [{ value: late.releasedEarly }]);
    }
    t.register('sockeye_metric_services', 'Services with RED metrics.', 'gauge', () => [{ value: this.metrics.serviceCount }]);
    t.register('sockeye_peer_linker_connections', 'Connections whose exchange sequence the peer linker tracks (freed when they close, else after 60 s idle).', 'gauge', () => [{ value: this.linker.trackedConnections }]);
  }

  private readonly txCounters = new Map<string, { value: number }>();
  private spansBuilt?: { value: number };

  onTransaction(tx: Transaction): void {
    try {
      let c = this.txCounters.get(tx.protocol);
      if (!c) this.txCounters.set(tx.protocol, (c = this.t.counter('sockeye_transactions_total', 'Transactions received from the protocol engine.', { protocol: tx.protocol })));
      c.value++;
      const now = this.batchClock.now();
      if (this.own?.isOwnPeer(tx.tuple.remoteAddr, tx.tuple.remotePort, tx.tuple.localPort, now)) {
        this.t.add('sockeye_transactions_skipped_total', 'Transactions not turned into signals, by reason.', 1, { reason: 'agent_own_traffic' });
        return;
      }
      const who = this.resources.get(tx.process, tx.startNs, now);
      const built = this.builder.build(tx, who);
      if (typeof built === 'string') {
        this.t.add('sockeye_transactions_skipped_total', 'Transactions not turned into signals, by reason.', 1, { reason: built });
        return;
      }
      if (built.lost) {
        this.t.add('sockeye_transactions_incomplete_total', 'Transactions whose outcome is unknown because the capture lost bytes (counted in RED without error or status), by reason.', 1, { reason: built.lost, protocol: tx.protocol });
      }
      if (built.incomplete) this.countIncomplete(tx.protocol, built.incomplete);
      if (this.resets && markConnectionReset(tx, built, this.resets, this.clock)) this.t.add('sockeye_spans_connection_reset_total', 'Spans whose connection was reset (error.type connection_reset, with the reset as a span event).');
      this.metrics.record(who.serviceName, built.metric, who.podUid);
      if (this.liveOn) this.live.record(who.serviceName, built.operation, tx.role === 'server' ? 'server' : 'client', built.metric.seconds, built.isError);
      // RED and the live view counted it above; from here on only kept spans cost anything.
      if (built.carried && !this.keepCarried(tx, built.span, built.carried)) return;
      if (built.natMiss) this.natLate?.missed(built.span, tx.tuple);
      this.linker.offer(tx, built.span, built.carried);
    } catch (e) {
      this.t.add('sockeye_signal_errors_total', 'Transactions that failed in span/metric building (bug or bad input).', 1, { error: (e as Error).name || 'Error' });
    }
  }

  /** A connection closed (the engine delivered its last transactions): free its bookkeeping now. */
  connectionClosed(connId: number): void {
    this.linker.forget(connId);
  }

  /** Spans named by their protocol alone because a field could not be decoded (bounded labels: fixed sets). */
  private countIncomplete(protocol: string, fields: string[]): void {
    for (const field of fields) {
      this.t.add('sockeye_spans_decode_incomplete_total', 'Spans whose method, path or query type could not be decoded from the captured bytes (named after the protocol, attribute sockeye.decode.incomplete), by protocol and missing attribute.', 1, { protocol, field });
    }
  }

  /** A request that carried a traceparent is decided before linking: its trace id is already known. */
  private keepCarried(tx: Transaction, span: TxSpan, carried: CarriedContext): boolean {
    span.traceId = carried.traceId;
    return this.sampler.decide(span, parseTracestate(tx.http?.request.tracestate), carried.sampled);
  }

  private emit(span: TxSpan): void {
    if (!this.sampler.decide(span)) return; // sampled out (counted): no NAT wait, no export
    if (this.natLate?.hold(span)) return;
    this.release(span);
  }

  private release(span: TxSpan): void {
    (this.spansBuilt ??= this.t.counter('sockeye_spans_total', 'Spans built and kept by sampling (the others: sockeye_spans_sampled_out_total).')).value++;
    this.opts.onSpan?.(span);
    this.export?.submit(span);
  }

  /** Periodic housekeeping: emits spans whose link wait ran out. */
  tick(): void {
    this.batchClock.set(Date.now()); // also when no batch comes: deadlines must still pass
    this.linker.tick();
    this.natLate?.tick();
  }

  async flush(): Promise<void> {
    this.linker.flush();
    this.natLate?.flush();
    await Promise.all([this.export?.forceFlush(), this.metrics.forceFlush()]);
  }

  async shutdown(): Promise<void> {
    this.linker.flush();
    this.natLate?.flush();
    await Promise.all([this.export?.shutdown(), this.metrics.shutdown()]);
  }
}
