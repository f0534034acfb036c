// Opens N keep-alive connections to a loopback HTTP server, sends one GET on each (so the agent
// tracks them), then holds them idle for `holdMs` and exits. Prints "ready" once all are open.
import { connect, type Socket } from 'node:net';

const [port, countArg, holdArg] = process.argv.slice(2).map(Number);
const count = countArg ?? 10000;
const holdMs = holdArg ?? 5000;
const sockets: Socket[] = [];
const batch = 200;
for (let i = 0; i < count; i += batch) {
  await Promise.all(Array.from({ length: Math.min(batch, count - i) }, () => new Promise<void>((resolve, reject) => {
    const s = connect(port!, '127.0.0.1', () => s.write('GET /idle HTTP/1.1\r\nHost: bench\r\n\r\n'));
    s.once('data', () => resolve());
    s.once('error', reject);
    sockets.push(s);
  })));
}
process.stdout.write(`ready ${sockets.length}\n`);
await new Promise((r) => setTimeout(r, holdMs));
for (const s of sockets) s.destroy();
process.stdout.write(`closed ${sockets.length}\n`);
