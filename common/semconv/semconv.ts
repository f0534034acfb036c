// The names we emit, in one place: the non-deprecated names of the pinned
// @opentelemetry/semantic-conventions package (1.45.0). schema_url names semantic conventions 1.45.0,
// the release that package documents and the first where rpc.status_code (with rpc.method and
// rpc.system.name) is a stable name; test/signals/semconv-names.test.ts checks no name we emit is
// deprecated there.
export const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.45.0';

/**
 * Our attribute (docs/agent.md, "Honest names"): the attributes whose value could not be decoded
 * from the captured bytes, e.g. ['rpc.method'] or ['http.request.method', 'url.path'].
 */
export const DECODE_INCOMPLETE = 'sockeye.decode.incomplete';

/** gRPC status as a name (OK, NOT_FOUND, …); replaced rpc.response.status_code. */
export const RPC_STATUS_CODE = 'rpc.status_code';
export const SCOPE_NAME = 'sockeye-agent';
export const SCOPE_VERSION = '0.1.0';

/** Semconv histogram boundaries in seconds; the SDK default ones are for milliseconds. */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export const METRIC = {
  httpServer: 'http.server.request.duration',
  httpClient: 'http.client.request.duration',
  rpcServer: 'rpc.server.call.duration',
  rpcClient: 'rpc.client.call.duration',
  dnsLookup: 'dns.lookup.duration',
} as const;
export type MetricName = (typeof METRIC)[keyof typeof METRIC];

export const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);

/** gRPC status code number → semconv name. */
export const GRPC_CODES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
];
/** Codes that make a SERVER span an error (semconv gRPC); on CLIENT spans every non-OK code does. */
export const GRPC_SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

export function grpcCodeName(code: number): string {
  return GRPC_CODES[code] ?? String(code);
}
