// Servers the overhead suite measures: Node's http (a child process) and nginx (Debian's package),
// both on loopback, both stopped by the suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';

export interface RunningServer {
  name: string;
  url: string;
  /** pids whose CPU counts as the server's */
  pids: number[];
  stop(): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

export async function startNodeHttpServer(port: number): Promise<RunningServer> {
  const script = join(fileURLToPath(new URL('.', import.meta.url)), 'node-http-server.js');
  // Raised fd limit: the RSS scenario holds 10k connections to this server. exec keeps the pid.
  const child = spawn('bash', ['-c', `ulimit -n 65536; exec "${process.execPath}" "${script}" ${port}`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await waitForPort(port);
  return { name: 'node-http', url: `http://127.0.0.1:${port}/`, pids: [child.pid!], stop: () => stopChild(child) };
}

/** nginx with one worker, serving a fixed body from memory (`return 200`). */
export async function startNginx(port: number): Promise<RunningServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sockeye-bench-nginx-'));
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `
daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    location / { default_type application/json; return 200 '{"ok":true,"service":"bench"}'; }
  }
}
`);
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitForPort(port);
  return {
    name: 'nginx',
    url: `http://127.0.0.1:${port}/`,
    pids: [child.pid!],
    stop: async () => { await stopChild(child); rmSync(dir, { recursive: true, force: true }); },
  };
}
