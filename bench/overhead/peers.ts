// Child processes for the gRPC and DNS scenarios and for holding many idle connections. Each is
// bounded in count and time and exits by itself.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const here = fileURLToPath(new URL('.', import.meta.url));

/** Runs `node <script> args…` with a raised open-file limit; resolves with its last stdout line. */
export function runPeer(script: string, args: string[], timeoutMs: number): { pid: Promise<number>; done: Promise<string> } {
  const cmd = `ulimit -n 65536 2>/dev/null; exec "${process.execPath}" "${join(here, script)}" ${args.map((a) => `'${a}'`).join(' ')}`;
  const child = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.setEncoding('utf8');
  const pid = new Promise<number>((resolve) => child.stdout!.once('data', () => resolve(child.pid!)));
  child.stdout!.on('data', (c: string) => (out += c));
  const done = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not finish in ${timeoutMs} ms`)); }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out.trim().split('\n').pop() ?? '');
      else reject(new Error(`${script} exited with ${code}: ${out.slice(-2000)}`));
    });
  });
  return { pid, done };
}
