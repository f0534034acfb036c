// The components built into this collector, by kind — the one list to extend when adding one.
import { Registry } from './component/registry.js';
import type { AnyFactory } from './component/factory.js';
import { otlpReceiverFactory } from './receivers/otlp/otlp-receiver.js';
import { batchProcessorFactory } from './processors/batch/batch-processor.js';
import { memoryLimiterProcessorFactory } from './processors/memory-limiter/memory-limiter-processor.js';
import { debugExporterFactory } from './exporters/debug/debug-exporter.js';

export const builtinFactories: AnyFactory[] = [
  otlpReceiverFactory,
  batchProcessorFactory,
  memoryLimiterProcessorFactory,
  debugExporterFactory,
] as AnyFactory[];

export function builtinRegistry(): Registry {
  return new Registry(builtinFactories);
}
