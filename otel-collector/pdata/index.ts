// pdata: the OTLP data model, binary and JSON codecs, and gRPC service definitions.
export * from './types.js';
export * from './int64.js';
export * from './codec.js';
export * from './json-codec.js';
export * from './grpc-services.js';
export { otlpRoot, otlpTypes } from './otlp-schema.js';
