// Config of receiver `otlp`. A protocol is on when its section is present (`grpc:` alone = its
// defaults); with no `protocols` at all both are on with defaults.
import { object, section, endpoint, int, byteSize, str, duration, ConfigError, type Infer, type Schema } from '../../../common/config/config-schema.js';

// Connection lifetime (names as the OpenTelemetry Collector's keepalive.server_parameters). The
// idle limit is what closes connections a client broke (HTTP/2 preface, then garbage): Node answers
// them with GOAWAY but never closes the socket, so without it each one holds a file descriptor
// forever. 0 turns age and ping off; idle cannot be turned off.
const serverParameters = object({
  max_connection_idle: duration(10_000, { min: 100 }),
  max_connection_age: duration(0),
  max_connection_age_grace: duration(5_000),
  time: duration(0),
  timeout: duration(20_000, { min: 100 }),
}, (c, fail) => {
  if (c.max_connection_age > 0 && c.max_connection_age < 100) fail('max_connection_age', 'must be 0 (off) or at least 100ms');
  if (c.time > 0 && c.time < 1000) fail('time', 'must be 0 (off) or at least 1s');
});
const grpc = object({
  endpoint: endpoint('127.0.0.1:4317'),
  max_recv_msg_size_mib: int(4, { min: 1, max: 2047 }),
  keepalive: object({ server_parameters: serverParameters }),
});
export type GrpcServerParameters = Infer<typeof serverParameters>;
const urlPath = (def: string): Schema<string> => ({
  expects: 'a URL path starting with "/"',
  parse(raw, path) {
    const v = str(def).parse(raw, path);
    if (!v.startsWith('/')) throw new ConfigError(path, `must start with "/", got ${JSON.stringify(v)}`);
    return v;
  },
});
const http = object({
  endpoint: endpoint('127.0.0.1:4318'),
  max_request_body_size: byteSize(20 * 1024 * 1024, { min: 1 }),
  traces_url_path: urlPath('/v1/traces'),
  metrics_url_path: urlPath('/v1/metrics'),
  logs_url_path: urlPath('/v1/logs'),
});
const protocols = object({ grpc: section(grpc), http: section(http) }, (c, fail) => {
  if (!c.grpc && !c.http) fail('grpc', 'at least one protocol (grpc or http) must be enabled');
});

export const otlpReceiverConfig = object({
  protocols: {
    expects: protocols.expects,
    parse: (raw: unknown, path: string) => protocols.parse(raw === undefined ? { grpc: null, http: null } : raw, path),
  },
});
export type OtlpReceiverConfig = Infer<typeof otlpReceiverConfig>;
