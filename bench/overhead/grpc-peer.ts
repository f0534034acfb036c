// gRPC unary load on loopback: a @grpc/grpc-js server and client in one process, `calls` unary
// calls over one HTTP/2 connection with `concurrency` in flight. Prints {"calls":N,"seconds":S}.
import * as grpc from '@grpc/grpc-js';

const [callsArg, concurrencyArg] = process.argv.slice(2);
const calls = Number(callsArg ?? 20000);
const concurrency = Number(concurrencyArg ?? 16);
const ident = (b: Buffer) => b;
const def: grpc.ServiceDefinition = {
  Echo: { path: '/sockeye.bench.v1.EchoService/Echo', requestStream: false, responseStream: false,
    requestSerialize: ident, requestDeserialize: ident, responseSerialize: ident, responseDeserialize: ident },
};
const server = new grpc.Server();
server.addService(def, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, call.request) });
const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
const Client = grpc.makeGenericClientConstructor(def, 'EchoService');
const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as {
  Echo(req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void; close(): void;
};
process.stdout.write('ready\n');
const payload = Buffer.from('hello sockeye');
const start = process.hrtime.bigint();
let sent = 0;
let failed = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (sent < calls) {
    sent++;
    await new Promise<void>((resolve) => client.Echo(payload, (e) => { if (e) failed++; resolve(); }));
  }
}));
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
client.close();
server.forceShutdown();
process.stdout.write(`${JSON.stringify({ calls, failed, seconds })}\n`);
