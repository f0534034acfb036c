// `sockeye trace` as a user runs it: the real CLI in a child process, real traffic, SIGTERM to stop.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { formatEvent, parseTraceArgs, printableFirstLine } from '../../cli/trace-command.js';
import { run, startPeer, startServer, stopPeer, type Peer } from './helpers/capture-helpers.js';

const cli = fileURLToPath(new URL('../../../bin/sockeye.js', import.meta.url));
const peers: Peer[] = [];
after(() => peers.forEach(stopPeer));

test('prints the attach report, one JSON line per event for the chosen pid, and stops cleanly on SIGTERM', async () => {
  const server = await startServer('http-server', ['127.0.0.1']);
  peers.push(server);
  const trace = startPeer(cli, ['trace', '--pid', String(server.pid), '--json', '--duration', '60']);
  peers.push(trace);
  // Its attach report goes to stderr (inherited here); the next test checks it.
  const deadline = Date.now() + 15_000;
  let seen: Record<string, unknown>[] = [];
  while (Date.now() < deadline) {
    await run('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${server.port}/traced`]);
    await new Promise((r) => setTimeout(r, 200));
    seen = trace.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    if (seen.some((e) => e.kind === 'data' && e.direction === 'egress')) break;
  }
  const req = seen.find((e) => e.kind === 'data' && e.direction === 'ingress');
  assert.ok(req, `a request line: ${JSON.stringify(trace.lines.slice(0, 5))}`);
  assert.equal(req.firstLine, 'GET /traced HTTP/1.1');
  assert.equal(req.role, 'server');
  assert.equal(req.protocol, 'http1');
  assert.equal(req.local, `127.0.0.1:${server.port}`);
  assert.ok(seen.every((e) => e.pid === server.pid), 'only the chosen pid');
  trace.child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => trace.child.once('exit', (c) => r(c)));
  assert.equal(code, 0, 'clean exit on SIGTERM');
});

test('the attach report names every program, and bad flags are refused with the reason', async () => {
  const r = await runWithStderr(['trace', '--duration', '1']);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /attached 26\/26 programs: .*sockeye_enter_read .*sockeye_exit_writev .*sockeye_sock_state/);
  // Machine-wide for a second: other load on the node may overflow the ring, which is counted, not an error.
  assert.match(r.stderr, /duration reached; events \d+, lost in kernel \d+, gaps \d+, decode errors 0/);
  const bad = await runWithStderr(['trace', '--payload-cap', '99999']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--payload-cap: expected an integer 1\.\.16384, got '99999'/);
});

test('formatting: printable first line, arrows by direction', () => {
  assert.equal(printableFirstLine(Buffer.from('GET / HTTP/1.1\r\nHost: x')), 'GET / HTTP/1.1');
  assert.equal(printableFirstLine(Buffer.from([0x00, 0x41, 0xff, 0x42])), '.A.B');
  assert.deepEqual(parseTraceArgs(['--pid', '1,2', '--pid=3', '--json']), { pids: [1, 2, 3], json: true });
  assert.throws(() => parseTraceArgs(['--frobnicate']), /unknown option '--frobnicate'/);
  const line = formatEvent({
    kind: 'data', tsNs: 0, connId: 1, fd: 3, role: 'client', protocol: 'http1', direction: 'ingress', syscall: 'read',
    bytes: Buffer.from('HTTP/1.1 200 OK\r\n'), totalBytes: 100, offset: 0,
    process: { pid: 9, tid: 9, comm: 'curl', cgroupId: 1n, netns: 1 },
    tuple: { family: 6, transport: 'tcp', localAddr: '::1', localPort: 5, remoteAddr: '::1', remotePort: 80 },
  }, Date.UTC(2026, 0, 1, 12, 0, 0), false);
  assert.equal(line, '12:00:00.000 curl/9 client  http1   tcp [::1]:5 <- [::1]:80 read 100B "HTTP/1.1 200 OK"');
});

async function runWithStderr(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, stderr };
}
