// A larger HTTP/2 receive window for the OTLP/gRPC front. Node's default is 64 KiB per stream and
// per connection, so a 1 MB Export request crossed the loopback in ~16 slices, each waiting for a
// WINDOW_UPDATE from this side: both processes woke up per slice (context switches, event-loop turns).
// grpc-js 1.14 has no server option for it (only the client's 'grpc-node.flow_control_window'), so
// this sets the stream window in the SETTINGS grpc-js sends and widens each session's connection
// window as it opens. Both reach fields grpc-js keeps private; if they go, nothing is widened and the
// receiver test that checks the window fails. Measured: docs/PERFORMANCE.md (agent userspace).
import type * as grpc from '@grpc/grpc-js';
import type { Http2Server, Http2Session } from 'node:http2';

/** Receive window per stream and per connection: room for one default-size (4 MiB) Export request. */
export const GRPC_RECEIVE_WINDOW = 4 * 1024 * 1024;

interface GrpcServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  http2Servers?: Map<Http2Server, unknown>;
}

/** Call before bindAsync: the stream window every connection's SETTINGS frame announces. */
export function setStreamWindow(server: grpc.Server, bytes = GRPC_RECEIVE_WINDOW): boolean {
  const s = server as unknown as GrpcServerInternals;
  if (!s.commonServerOptions) return false;
  s.commonServerOptions.settings = { ...s.commonServerOptions.settings, initialWindowSize: bytes };
  return true;
}

/** Call after bindAsync: every new session's connection window grows to `bytes`. */
export function widenConnectionWindows(server: grpc.Server, bytes = GRPC_RECEIVE_WINDOW): number {
  const servers = (server as unknown as GrpcServerInternals).http2Servers;
  if (!servers) return 0;
  for (const h of servers.keys()) h.on('session', (session: Http2Session) => session.setLocalWindowSize(bytes));
  return servers.size;
}
