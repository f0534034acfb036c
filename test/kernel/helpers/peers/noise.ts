// Test peer: traffic that matches no protocol. argv: echo-server | echo-client <port> | files <dir>
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const [mode, arg = ''] = process.argv.slice(2);
if (mode === 'echo-server') {
  const server = net.createServer((s) => s.pipe(s));
  server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    process.stdout.write(`ready ${typeof a === 'object' && a ? a.port : 0}\n`);
  });
  process.stdin.on('end', () => process.exit(0)).resume();
} else if (mode === 'echo-client') {
  const s = net.connect(Number(arg), '127.0.0.1');
  let want = 0;
  let got = 0;
  s.on('data', (d) => { got += d.length; if (got >= want) { s.end(); } });
  s.on('connect', () => {
    for (let i = 0; i < 50; i++) { const b = randomBytes(1 + (i * 997) % 4000); want += b.length; s.write(b); }
  });
  s.on('close', () => process.stdout.write(`done ${got}\n`));
} else if (mode === 'files') {
  for (let i = 0; i < 20; i++) {
    const f = join(arg, `noise-${i}`);
    // HTTP-looking bytes in a file must not be reported: only sockets are traced.
    writeFileSync(f, Buffer.concat([Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), randomBytes(2048)]));
    readFileSync(f);
    rmSync(f);
  }
  process.stdout.write('done\n');
}
