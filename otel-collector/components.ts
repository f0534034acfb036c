// The components built into this collector, by kind — the one list to extend when adding one.
import { Registry } from './component/registry.js';
import type { AnyFactory } from './component/factory.js';
import { otlpReceiverFactory } from './receivers/otlp/otlp-receiver.js';
import { batchProcessorFactory } from './processors/batch/batch-processor.js';
import { memoryLimiterProcessorFactory } from './processors/memory-limiter/memory-limiter-processor.js';
import { k8sAttributesProcessorFactory } from './processors/k8s-attributes/k8s-attributes-processor.js';
import { natProcessorFactory } from './processors/nat/nat-processor.js';
import { servicegraphConnectorFactory } from './connectors/servicegraph/servicegraph-connector.js';
import { otlpGrpcExporterFactory } from './exporters/otlp-grpc/otlp-grpc-exporter.js';
import { otlpHttpExporterFactory } from './exporters/otlp-http/otlp-http-exporter.js';
import { prometheusExporterFactory } from './exporters/prometheus/prometheus-exporter.js';
import { debugExporterFactory } from './exporters/debug/debug-exporter.js';
import { healthCheckExtensionFactory } from './extensions/health-check/health-check-extension.js';

export const builtinFactories: AnyFactory[] = [
  // receivers
  otlpReceiverFactory,
  // processors
  memoryLimiterProcessorFactory,
  batchProcessorFactory,
  k8sAttributesProcessorFactory,
  natProcessorFactory,
  // connectors
  servicegraphConnectorFactory,
  // exporters
  otlpGrpcExporterFactory,
  otlpHttpExporterFactory,
  prometheusExporterFactory,
  debugExporterFactory,
  // extensions
  healthCheckExtensionFactory,
] as AnyFactory[];

export function builtinRegistry(): Registry {
  return new Registry(builtinFactories);
}
