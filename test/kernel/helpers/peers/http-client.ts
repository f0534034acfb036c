// Test peer: a node:http client on one keep-alive connection. argv: url count [waitForGo]
// With waitForGo=1 it sends one request, prints `first-done`, then waits for a line on stdin
// before sending the rest (a connection opened before the capture started).
import http from 'node:http';
import { once } from 'node:events';

const [url = '', countArg = '1', waitArg = '0'] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function get(u: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(u, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', reject);
  });
}

let count = Number(countArg);
if (waitArg === '1') {
  await get(url);
  process.stdout.write('first-done\n');
  await once(process.stdin, 'data');
  count -= 1;
}
for (let i = 0; i < count; i++) await get(`${url}?i=${i}`);
process.stdout.write('done\n');
agent.destroy();
