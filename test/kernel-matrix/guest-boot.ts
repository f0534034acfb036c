// Boots one Debian kernel in qemu (TCG: no KVM on the test machines) with an initramfs holding
// busybox, guest-init.sh as /init, the static matrix loader and the BPF object, and collects the
// loader's "@matrix {json}" lines from the serial console.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const kernelCache = process.env.SOCKEYE_KERNEL_CACHE ?? join(repoRoot, 'build/kernels');
export const loaderPath = join(repoRoot, 'build/kernel-matrix/matrix-loader');
export const objectPath = process.env.SOCKEYE_BPF_OBJECT ?? join(repoRoot, 'build/bpf/sockeye.bpf.o');
const initScript = join(repoRoot, 'test/kernel-matrix/guest-init.sh');
const BUSYBOX = '/bin/busybox'; // busybox-static: the initramfs has no shared libraries
const TAG = '@matrix ';
/** The matrix row that runs on this machine's own kernel rather than in a VM. */
export const HOST = 'host';

export interface GuestRun {
  records: Array<Record<string, unknown>>;
  /** Console lines that carried the tag but were not valid JSON (interleaved kernel output). */
  garbled: string[];
  console: string;
  timedOut: boolean;
  seconds: number;
}

/** What a kernel needs to boot here, or why it cannot: names the missing piece and its fix. */
export function missingPieces(suite: string): string[] {
  const need: Array<[string, string]> = [[loaderPath, 'make matrix-loader'], [objectPath, 'make bpf']];
  if (suite !== HOST) {
    need.push([join(kernelCache, suite, 'vmlinuz'), 'scripts/fetch-test-kernels.sh'], [BUSYBOX, 'apt-get install busybox-static']);
  }
  const out = need.filter(([p]) => !existsSync(p)).map(([p, fix]) => `${p} (${fix})`);
  if (suite !== HOST && spawnSync('qemu-system-x86_64', ['--version']).status !== 0) out.push('qemu-system-x86_64 (apt-get install qemu-system-x86)');
  return out;
}

/** A newc cpio archive of the guest's files, written by busybox's cpio. */
function buildInitramfs(dir: string): string {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'bin'), { recursive: true });
  copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
  copyFileSync(initScript, join(root, 'init'));
  copyFileSync(loaderPath, join(root, 'matrix-loader'));
  copyFileSync(objectPath, join(root, 'sockeye.bpf.o'));
  for (const f of ['bin/busybox', 'init', 'matrix-loader']) chmodSync(join(root, f), 0o755);
  const files = ['.', 'bin', 'bin/busybox', 'init', 'matrix-loader', 'sockeye.bpf.o'].join('\n') + '\n';
  const archive = join(dir, 'initramfs.cpio');
  const r = spawnSync(BUSYBOX, ['cpio', '-o', '-H', 'newc'], { cwd: root, input: files, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`busybox cpio failed: ${r.stderr.toString()}`);
  writeFileSync(archive, r.stdout);
  return archive;
}

export function parseConsole(text: string): Pick<GuestRun, 'records' | 'garbled'> {
  const records: GuestRun['records'] = [];
  const garbled: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(TAG);
    if (at < 0) continue;
    try {
      records.push(JSON.parse(line.slice(at + TAG.length)) as Record<string, unknown>);
    } catch {
      garbled.push(line);
    }
  }
  return { records, garbled };
}

/** Boots `suite`'s cached kernel; resolves when the guest powers off or timeoutMs passes. */
export async function bootKernel(suite: string, timeoutMs: number): Promise<GuestRun> {
  const dir = mkdtempSync(join(tmpdir(), `sockeye-matrix-${suite}-`));
  const started = Date.now();
  try {
    const initrd = buildInitramfs(dir);
    const args = [
      '-kernel', join(kernelCache, suite, 'vmlinuz'), '-initrd', initrd,
      // no_timer_check: under TCG on a busy host the IO-APIC timer check can fail and panic.
      '-append', 'console=ttyS0 quiet loglevel=3 panic=-1 no_timer_check',
      '-m', '512M', '-smp', '1', '-nodefaults', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    ];
    const qemu = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    qemu.stdout.on('data', (b: Buffer) => { out += b.toString('latin1'); });
    qemu.stderr.on('data', (b: Buffer) => { out += b.toString('latin1'); });
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; qemu.kill('SIGKILL'); }, timeoutMs);
    await new Promise<void>((resolve) => qemu.on('close', () => resolve()));
    clearTimeout(timer);
    const logDir = join(repoRoot, 'build/kernel-matrix');
    mkdirSync(logDir, { recursive: true });
    writeFileSync(join(logDir, `${suite}.console.log`), out); // for a human reading a failure
    return { ...parseConsole(out), console: out, timedOut, seconds: (Date.now() - started) / 1000 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The same loader straight on this machine's kernel (no VM): the matrix's row for the host. */
export async function runOnHost(timeoutMs: number): Promise<GuestRun> {
  const started = Date.now();
  // Only the loader's child traced: other work on this machine must not crowd the ring.
  const loader = spawn(loaderPath, ['--only-child', objectPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  loader.stdout.on('data', (b: Buffer) => { out += b.toString('latin1'); });
  loader.stderr.on('data', (b: Buffer) => { out += b.toString('latin1'); });
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; loader.kill('SIGKILL'); }, timeoutMs);
  await new Promise<void>((resolve) => loader.on('close', () => resolve()));
  clearTimeout(timer);
  return { ...parseConsole(out), console: out, timedOut, seconds: (Date.now() - started) / 1000 };
}

export const kernelRelease = (suite: string): string => {
  if (suite === HOST) return release();
  const f = join(kernelCache, suite, 'release');
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : suite;
};
