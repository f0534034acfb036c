// The running collector: turns a validated config into component instances wired into pipelines
// (receivers fan out to pipelines, processors chain, exporters and connectors fan in), starts them
// back to front and stops them front to back so no stage receives data after its successor stopped.
import http from 'node:http';
import { ConfigError } from '../../common/config/config-schema.js';
import { type AnyConsumer, type Signal } from '../component/consumer.js';
import type { Component, Host, CreateSettings, ProcessorFactory, ExporterFactory, ReceiverFactory, ConnectorFactory, ExtensionFactory } from '../component/factory.js';
import { SelfTelemetry } from '../component/self-telemetry.js';
import { createLogger, type Logger } from '../component/logger.js';
import type { CollectorConfig, ComponentConfig, PipelineConfig } from './collector-config.js';
import { fanout, type FanoutTarget } from './fanout.js';
import { splitHostPort } from '../component/host-port.js';

interface Running { label: string; component: Component }

export interface ServiceOptions { logger?: Logger; telemetry?: SelfTelemetry }

export class Service implements Host {
  readonly telemetry: SelfTelemetry;
  readonly logger: Logger;
  private readonly extensions = new Map<string, Component>();
  private readonly exporters = new Map<string, Component & AnyConsumer>();
  private readonly connectors = new Map<string, Component & AnyConsumer>();
  private readonly processors: Running[] = [];
  private readonly receivers = new Map<string, Component>();
  private readonly heads = new Map<string, FanoutTarget>();
  private readonly building = new Set<string>();
  private ready = false;
  private telemetryServer?: http.Server;
  private fatal?: Error;

  constructor(readonly config: CollectorConfig, opts: ServiceOptions = {}) {
    this.telemetry = opts.telemetry ?? new SelfTelemetry();
    this.logger = opts.logger ?? createLogger(config.service.telemetry.logs.level);
    this.build();
  }

  private settings(c: ComponentConfig): CreateSettings {
    return { id: c.id, telemetry: this.telemetry, logger: this.logger.child(c.id.toString()) };
  }

  private build(): void {
    const { service } = this.config;
    for (const id of service.extensions) {
      const c = this.config.extensions.get(id)!;
      this.extensions.set(id, (c.factory as ExtensionFactory).create(this.settings(c), c.config));
    }
    // Exporters: one shared instance each, consuming every signal some pipeline sends it.
    const exporterSignals = new Map<string, Set<Signal>>();
    for (const p of service.pipelines) {
      for (const e of p.exporters) {
        if (this.config.exporters.has(e)) (exporterSignals.get(e) ?? exporterSignals.set(e, new Set()).get(e)!).add(p.signal);
      }
    }
    for (const [id, signals] of exporterSignals) {
      const c = this.config.exporters.get(id)!;
      this.exporters.set(id, (c.factory as ExporterFactory).create(this.settings(c), c.config, [...signals]));
    }
    for (const p of service.pipelines) this.pipelineHead(p);
    // Receivers: one instance each, fanning out per signal to every pipeline that names it.
    const used = new Set(service.pipelines.flatMap((p) => p.receivers).filter((r) => this.config.receivers.has(r)));
    for (const id of used) {
      const c = this.config.receivers.get(id)!;
      const next: Partial<Record<Signal, AnyConsumer>> = {};
      for (const signal of ['traces', 'metrics', 'logs'] as const) {
        const pipes = service.pipelines.filter((p) => p.signal === signal && p.receivers.includes(id));
        if (pipes.length) next[signal] = fanout(signal, pipes.map((p) => this.pipelineHead(p)));
      }
      this.receivers.set(id, (c.factory as ReceiverFactory).create(this.settings(c), c.config, next));
    }
  }

  // The first stage of a pipeline (built once, memoized); building it builds everything downstream,
  // including pipelines fed through connectors. A connector loop is a config error.
  private pipelineHead(p: PipelineConfig): FanoutTarget {
    const done = this.heads.get(p.id);
    if (done) return done;
    if (this.building.has(p.id)) {
      throw new ConfigError(`service.pipelines.${p.id}`, 'connectors form a cycle: this pipeline feeds itself');
    }
    this.building.add(p.id);
    const targets: FanoutTarget[] = [];
    for (const e of p.exporters) {
      const exp = this.exporters.get(e);
      if (exp) { targets.push({ consumer: exp, mutates: false }); continue; }
      const c = this.config.connectors.get(e)!;
      const f = c.factory as ConnectorFactory;
      for (const to of ['traces', 'metrics', 'logs'] as const) {
        if (!f.pairs.some(([a, b]) => a === p.signal && b === to)) continue;
        const sinks = this.config.service.pipelines.filter((q) => q.signal === to && q.receivers.includes(e));
        if (!sinks.length) continue;
        const key = `${e}:${p.signal}->${to}`;
        let conn = this.connectors.get(key);
        if (!conn) {
          const next = fanout(to, sinks.map((q) => this.pipelineHead(q)));
          conn = f.create(this.settings(c), c.config, p.signal, to, next);
          this.connectors.set(key, conn);
        }
        targets.push({ consumer: conn, mutates: false });
      }
    }
    let next = fanout(p.signal, targets);
    let mutates = false;
    for (const id of [...p.processors].reverse()) {
      const c = this.config.processors.get(id)!;
      const f = c.factory as ProcessorFactory;
      const proc = f.create(this.settings(c), c.config, p.signal, next);
      this.processors.push({ label: `processor ${id} in pipeline ${p.id}`, component: proc });
      next = proc;
      mutates ||= f.mutatesData;
    }
    const head = { consumer: next, mutates };
    this.building.delete(p.id);
    this.heads.set(p.id, head);
    return head;
  }

  private order(): Running[] {
    return [
      ...[...this.extensions].map(([id, component]) => ({ label: `extension ${id}`, component })),
      ...[...this.exporters].map(([id, component]) => ({ label: `exporter ${id}`, component })),
      ...[...this.connectors].map(([id, component]) => ({ label: `connector ${id}`, component })),
      // Processors were created last-stage-first, so this order starts each before its predecessor.
      ...this.processors,
      ...[...this.receivers].map(([id, component]) => ({ label: `receiver ${id}`, component })),
    ];
  }

  async start(): Promise<void> {
    const started: Running[] = [];
    for (const r of this.order()) {
      try {
        await r.component.start(this);
        started.push(r);
      } catch (e) {
        this.logger.error(`failed to start ${r.label}: ${(e as Error).message}`);
        for (const s of started.reverse()) await s.component.shutdown().catch(() => {});
        throw new Error(`failed to start ${r.label}: ${(e as Error).message}`);
      }
    }
    const addr = this.config.service.telemetry.metrics.address;
    if (addr) {
      try {
        this.telemetryServer = await serveTelemetry(addr, this.telemetry);
      } catch (e) {
        for (const s of started.reverse()) await s.component.shutdown().catch(() => {});
        throw new Error(`failed to serve self-telemetry on ${addr}: ${(e as Error).message}`);
      }
    }
    this.telemetry.gauge('process_resident_memory_bytes', 'Resident set size of the collector process.', () => process.memoryUsage.rss());
    this.ready = true;
    this.logger.info(`started: ${this.config.service.pipelines.map((p) => p.id).join(', ')}`);
  }

  async shutdown(): Promise<void> {
    this.ready = false;
    for (const r of this.order().reverse()) {
      try {
        await r.component.shutdown();
      } catch (e) {
        this.logger.warn(`error shutting down ${r.label}: ${(e as Error).message}`);
      }
    }
    if (this.telemetryServer) await new Promise<void>((res) => this.telemetryServer!.close(() => res()));
  }

  getExtension(id: string): Component | undefined { return this.extensions.get(id); }
  isReady(): boolean { return this.ready && !this.fatal; }
  reportFatal(id: string, err: Error): void {
    this.fatal = err;
    this.logger.error(`fatal error in ${id}: ${err.message}`);
  }
  /** Test/bench access to a built receiver, exporter or connector instance. */
  component(kind: 'receiver' | 'exporter' | 'connector', key: string): Component | undefined {
    return kind === 'receiver' ? this.receivers.get(key) : kind === 'exporter' ? this.exporters.get(key) : this.connectors.get(key);
  }
}

async function serveTelemetry(addr: string, t: SelfTelemetry): Promise<http.Server> {
  const { host, port } = splitHostPort(addr);
  const srv = http.createServer((req, res) => {
    if (req.url?.split('?')[0] !== '/metrics') { res.writeHead(404).end('not found; try /metrics\n'); return; }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(t.renderPrometheus());
  });
  await new Promise<void>((res, rej) => { srv.once('error', rej); srv.listen(port, host, () => res()); });
  return srv;
}
