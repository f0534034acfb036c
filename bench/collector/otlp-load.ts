// Load for the collector benchmark: pre-encoded OTLP trace requests (client/server span pairs of
// two services, unique trace ids so the service graph pairs every one), a gRPC sender with bounded
// concurrency, and a gRPC sink that counts the spans the collector exports. Loopback only.
import * as grpc from '@grpc/grpc-js';
import { encodeTraceRequest, decodeTraceRequest, countSpans, int64FromBigInt, type Traces, type Span } from '../../otel-collector/pdata/index.js';

const TRACE_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const raw = (b: Buffer) => b;

let seq = 0;
function ids(): { trace: Uint8Array; client: Uint8Array; server: Uint8Array } {
  seq++;
  const trace = new Uint8Array(16); trace[0] = 0xab; new DataView(trace.buffer).setUint32(12, seq);
  const client = new Uint8Array(8); client[0] = 0xc1; new DataView(client.buffer).setUint32(4, seq);
  const server = new Uint8Array(8); server[0] = 0x5e; new DataView(server.buffer).setUint32(4, seq);
  return { trace, client, server };
}

/** Kubernetes identity for the two ends, so k8s_attributes has real lookups to do. */
export interface K8sEnds { clientUid: string; clientIp: string; serverUid: string; serverIp: string }

/** One request: `pairs` client spans (service frontend) and their server spans (service backend). */
export function makeRequest(pairs: number, k8s?: K8sEnds): Traces {
  const t0 = 1_700_000_000_000_000_000n;
  const clients: Span[] = [];
  const servers: Span[] = [];
  const attrs = (route: string, peerIp?: string) => [
    { key: 'http.request.method', value: { stringValue: 'GET' } },
    { key: 'url.path', value: { stringValue: route } },
    { key: 'http.response.status_code', value: { intValue: 200 } },
    { key: 'server.port', value: { intValue: 8080 } },
    ...(peerIp ? [{ key: 'network.peer.address', value: { stringValue: peerIp } }] : []),
  ];
  for (let i = 0; i < pairs; i++) {
    const { trace, client, server } = ids();
    const start = t0 + BigInt(i) * 1000n;
    clients.push({ traceId: trace, spanId: client, name: 'GET', kind: 3, startTimeUnixNano: int64FromBigInt(start), endTimeUnixNano: int64FromBigInt(start + 2_000_000n), attributes: attrs('/items', k8s?.serverIp) });
    servers.push({ traceId: trace, spanId: server, parentSpanId: client, name: 'GET /items', kind: 2, startTimeUnixNano: int64FromBigInt(start + 100_000n), endTimeUnixNano: int64FromBigInt(start + 1_800_000n), attributes: attrs('/items', k8s?.clientIp) });
  }
  const res = (svc: string, uid?: string) => ({ attributes: [
    { key: 'service.name', value: { stringValue: svc } }, { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
    { key: 'k8s.pod.name', value: { stringValue: `${svc}-7d9f8-abcde` } }, { key: 'telemetry.sdk.name', value: { stringValue: 'sockeye' } },
    ...(uid ? [{ key: 'k8s.pod.uid', value: { stringValue: uid } }] : []),
  ] });
  return { resourceSpans: [
    { resource: res('frontend', k8s?.clientUid), scopeSpans: [{ scope: { name: 'sockeye' }, spans: clients }] },
    { resource: res('backend', k8s?.serverUid), scopeSpans: [{ scope: { name: 'sockeye' }, spans: servers }] },
  ] };
}

export function encodeRequests(count: number, pairs: number, k8s?: K8sEnds): Buffer[] {
  return Array.from({ length: count }, () => Buffer.from(encodeTraceRequest(makeRequest(pairs, k8s))));
}

/** Sends every request over one channel with at most `concurrency` in flight; resolves when all answered. */
export async function sendAll(target: string, requests: Buffer[], concurrency: number): Promise<{ failed: number }> {
  const client = new grpc.Client(target, grpc.credentials.createInsecure());
  let next = 0;
  let failed = 0;
  const worker = async () => {
    while (next < requests.length) {
      const body = requests[next++]!;
      await new Promise<void>((res) => {
        client.makeUnaryRequest(TRACE_PATH, raw, raw, body, new grpc.Metadata(), { deadline: Date.now() + 30_000 }, (err) => {
          if (err) failed++;
          res();
        });
      });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  client.close();
  return { failed };
}

/** An OTLP/gRPC trace sink that counts spans it is sent. */
export async function startSink(): Promise<{ port: number; spans: () => number; lastKeys: () => string[]; stop: () => Promise<void> }> {
  let spans = 0;
  let lastKeys: string[] = [];
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService({
    Export: { path: TRACE_PATH, requestStream: false, responseStream: false, requestDeserialize: raw, requestSerialize: raw, responseSerialize: raw, responseDeserialize: raw },
  }, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const d = decodeTraceRequest(call.request);
      if (d.ok) {
        spans += countSpans(d.value);
        const rs = d.value.resourceSpans[0];
        const sp = rs?.scopeSpans[0]?.spans[0];
        if (rs && sp) lastKeys = [...(rs.resource?.attributes ?? []), ...sp.attributes].map((a) => a.key);
      }
      cb(null, Buffer.alloc(0));
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return { port, spans: () => spans, lastKeys: () => lastKeys, stop: () => new Promise((res) => server.tryShutdown(() => res())) };
}
