// Factories: one per component type, the only thing the service needs to know about a component.
// A factory owns its config schema (defaults + validation) and builds instances wired to the next
// consumer. Kinds mirror the OpenTelemetry Collector: receiver, processor, exporter, connector, extension.
import type { ObjectSchema } from '../../common/config/config-schema.js';
import type { ComponentId } from './component-id.js';
import type { AnyConsumer, Signal } from './consumer.js';
import type { SelfTelemetry } from './self-telemetry.js';
import type { Logger } from './logger.js';

export type Kind = 'receiver' | 'processor' | 'exporter' | 'connector' | 'extension';

/** What a running service offers its components. */
export interface Host {
  /** Started extensions by id string (e.g. a processor looking up a shared cache). */
  getExtension(id: string): Component | undefined;
  /** True once every component started and until shutdown begins; health_check reports it. */
  isReady(): boolean;
  /** Reports a fatal asynchronous error (e.g. a listener died); the service logs it and marks unhealthy. */
  reportFatal(id: string, err: Error): void;
}

export interface Component {
  start(host: Host): Promise<void>;
  shutdown(): Promise<void>;
}

export interface CreateSettings {
  id: ComponentId;
  telemetry: SelfTelemetry;
  logger: Logger;
}

interface BaseFactory<C> {
  readonly type: string;
  readonly kind: Kind;
  /** Parses and validates the component's YAML section; defaults come from here. */
  readonly config: ObjectSchema<C>;
}

export interface ReceiverFactory<C = unknown> extends BaseFactory<C> {
  readonly kind: 'receiver';
  readonly signals: readonly Signal[];
  /** `next` has a consumer for each signal some pipeline uses this receiver in (and only those). */
  create(s: CreateSettings, cfg: C, next: Partial<Record<Signal, AnyConsumer>>): Component;
}

export interface ProcessorFactory<C = unknown> extends BaseFactory<C> {
  readonly kind: 'processor';
  readonly signals: readonly Signal[];
  /** Processors that change data in place get their own copy when a receiver fans out. */
  readonly mutatesData: boolean;
  /** One instance per pipeline; it must implement consume* for `signal`. */
  create(s: CreateSettings, cfg: C, signal: Signal, next: AnyConsumer): Component & AnyConsumer;
}

export interface ExporterFactory<C = unknown> extends BaseFactory<C> {
  readonly kind: 'exporter';
  readonly signals: readonly Signal[];
  /** One instance per id, shared by all pipelines naming it; implements consume* for `signals`. */
  create(s: CreateSettings, cfg: C, signals: Signal[]): Component & AnyConsumer;
}

export interface ConnectorFactory<C = unknown> extends BaseFactory<C> {
  readonly kind: 'connector';
  /** Supported [exporter-side signal, receiver-side signal] pairs, e.g. traces → metrics. */
  readonly pairs: readonly (readonly [Signal, Signal])[];
  /** One instance per (id, from, to); consumes `from`, emits `to` into `next`. */
  create(s: CreateSettings, cfg: C, from: Signal, to: Signal, next: AnyConsumer): Component & AnyConsumer;
}

export interface ExtensionFactory<C = unknown> extends BaseFactory<C> {
  readonly kind: 'extension';
  create(s: CreateSettings, cfg: C): Component;
}

export type AnyFactory = ReceiverFactory | ProcessorFactory | ExporterFactory | ConnectorFactory | ExtensionFactory;

/** The factory's defaults: its schema applied to an empty section. */
export function createDefaultConfig<C>(f: BaseFactory<C>): C {
  return f.config.parse({}, `${f.kind}s.${f.type}`);
}
