import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { OwnSockets, readOwnLocalPorts } from '../../agent/signals/own-sockets.js';

test("this process's own TCP sockets are found by their local ports; others' are not", async () => {
  const server = createServer((s) => s.on('data', () => {}));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const client: Socket = connect(port, '127.0.0.1');
  await once(client, 'connect');
  try {
    const ports = readOwnLocalPorts();
    assert.ok(ports.has(port), 'listening port');
    assert.ok(ports.has(client.localPort!), 'client ephemeral port');
    const own = new OwnSockets(() => new Set(), 0);
    assert.equal(own.isOwnPeer('127.0.0.1', client.localPort!), true);
    assert.equal(own.isOwnPeer('198.18.0.9', client.localPort!), false, 'a remote address is never us');
    assert.equal(own.isOwnPeer('127.0.0.1', 1), false);
  } finally {
    client.destroy();
    server.close();
  }
});
