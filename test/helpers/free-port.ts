// A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it; the listener is closed
// before the promise resolves), for servers a test starts as child processes.
import { createServer, type AddressInfo } from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const p = (s.address() as AddressInfo).port; s.close(() => res(p)); });
  });
}
