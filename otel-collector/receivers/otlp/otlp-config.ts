// Config of receiver `otlp`. A protocol is on when its section is present (`grpc:` alone = its
// defaults); with no `protocols` at all both are on with defaults.
import { object, section, endpoint, int, byteSize, str, ConfigError, type Infer, type Schema } from '../../../common/config/config-schema.js';

const grpc = object({
  endpoint: endpoint('127.0.0.1:4317'),
  max_recv_msg_size_mib: int(4, { min: 1, max: 2047 }),
});
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
