// Builds Transactions as the protocol engine would emit them, for tests of the signal stage alone.
import type { Transaction } from '../../../agent/protocols/transaction.js';

let nextConn = 1;

export function httpTx(over: Partial<Transaction> & { method?: string; target?: string; status?: number; role?: 'client' | 'server';
  headers?: { host?: string; traceparent?: string; userAgent?: string } }): Transaction {
  const role = over.role ?? 'server';
  const target = over.target ?? '/users/42';
  const q = target.indexOf('?');
  const server = role === 'server';
  return {
    protocol: 'http1', connId: over.connId ?? nextConn++, role,
    tuple: over.tuple ?? (server
      ? { family: 4, transport: 'tcp', localAddr: '127.0.0.1', localPort: 8080, remoteAddr: '127.0.0.1', remotePort: 50000 }
      : { family: 4, transport: 'tcp', localAddr: '127.0.0.1', localPort: 50000, remoteAddr: '127.0.0.1', remotePort: 8080 }),
    process: over.process ?? { pid: process.pid, tid: process.pid, comm: 'node', cgroupId: 1n, netns: 1 },
    startNs: over.startNs ?? 1_000_000_000, endNs: over.endNs ?? 1_025_000_000,
    requestBytes: 100, responseBytes: 200,
    http: {
      request: { method: over.method ?? 'GET', target, path: q < 0 ? target : target.slice(0, q), query: q < 0 ? undefined : target.slice(q + 1),
        host: over.headers?.host ?? '127.0.0.1:8080', version: '1.1', userAgent: over.headers?.userAgent, traceparent: over.headers?.traceparent,
        sensitiveHeaders: ['authorization', 'cookie'] },
      response: over.status === undefined && over.error ? undefined : { status: over.status ?? 200 },
    },
    error: over.error,
    anomalies: [],
    ...(over.streamId !== undefined ? { streamId: over.streamId } : {}),
  };
}

export function grpcTx(role: 'client' | 'server', status: number | undefined, over: Partial<Transaction> = {}): Transaction {
  const server = role === 'server';
  return {
    protocol: 'grpc', connId: over.connId ?? nextConn++, role, streamId: over.streamId ?? 1,
    tuple: server
      ? { family: 4, transport: 'tcp', localAddr: '127.0.0.1', localPort: 50051, remoteAddr: '127.0.0.1', remotePort: 40000 }
      : { family: 4, transport: 'tcp', localAddr: '127.0.0.1', localPort: 40000, remoteAddr: '127.0.0.1', remotePort: 50051 },
    process: { pid: process.pid, tid: process.pid, comm: 'node', cgroupId: 1n, netns: 1 },
    startNs: 2_000_000_000, endNs: 2_010_000_000, requestBytes: 10, responseBytes: 10,
    grpc: { service: 'demo.Greeter', method: 'SayHello', authority: 'localhost:50051', status },
    anomalies: [], ...over,
  };
}

export function dnsTx(rcode: string | undefined, error?: 'timeout'): Transaction {
  return {
    protocol: 'dns', connId: nextConn++, role: 'client',
    tuple: { family: 4, transport: 'udp', localAddr: '127.0.0.1', localPort: 53000, remoteAddr: '127.0.0.1', remotePort: 5353 },
    process: { pid: process.pid, tid: process.pid, comm: 'dig', cgroupId: 1n, netns: 1 },
    startNs: 3_000_000_000, endNs: 3_002_000_000, requestBytes: 40, responseBytes: 80,
    dns: { id: 7, qname: 'example.test', qtype: 'A', qclass: 'IN', rcode,
      answers: rcode === 'NOERROR' ? [{ name: 'example.test', type: 'A', ttl: 60, data: '198.18.0.7' }] : [] },
    error, anomalies: [],
  };
}
