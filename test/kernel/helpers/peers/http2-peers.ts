// Test peer: HTTP/2 cleartext with prior knowledge. argv: server | client <port> <count> [waitForGo]
import http2 from 'node:http2';
import { once } from 'node:events';

const [mode, portArg = '0', countArg = '1', waitArg = '0'] = process.argv.slice(2);

if (mode === 'server') {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`h2 hello ${headers[':path']}`);
  });
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`ready ${typeof a === 'object' && a ? a.port : 0}\n`);
  });
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  const session = http2.connect(`http://127.0.0.1:${portArg}`);
  const request = (path: string) => new Promise<void>((resolve, reject) => {
    const req = session.request({ ':path': path });
    req.on('response', () => undefined);
    req.resume();
    req.on('end', () => resolve());
    req.on('error', reject);
  });
  let count = Number(countArg);
  if (waitArg === '1') {
    await request('/before');
    process.stdout.write('first-done\n');
    await once(process.stdin, 'data');
    count -= 1;
  }
  for (let i = 0; i < count; i++) await request(`/r${i}`);
  process.stdout.write('done\n');
  session.close();
}
