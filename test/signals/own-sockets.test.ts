import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { OwnSockets, exportPorts, readOwnLocalPorts } from '../../agent/signals/own-sockets.js';

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
    const own = new OwnSockets(new Set([port]));
    own.refresh(0); // long ago: the next miss on an export port looks again
    assert.equal(own.isOwnPeer('127.0.0.1', client.localPort!, port), true, 'the receiving end of our connection');
    assert.equal(own.isOwnPeer('198.18.0.9', client.localPort!, port), false, 'a remote address is never us');
    assert.equal(own.isOwnPeer('127.0.0.1', 1, port), false);
    assert.deepEqual([...exportPorts('http://127.0.0.1:14317', {})].sort(), [14317, 4317, 4318]);
  } finally {
    client.destroy();
    server.close();
  }
});
