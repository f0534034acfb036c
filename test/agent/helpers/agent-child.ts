// Runs `sockeye agent` as its own process (as users run it), with a config file pointing its OTLP
// export at a receiver in the test. The test process itself is traced (the agent only excludes
// its own pid), so servers and clients can live in the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';

const root = new URL('../../../../', import.meta.url).pathname;

/** Why the real-kernel agent cannot run here, or undefined when it can. */
export function kernelAgentUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to load BPF programs';
  if (!existsSync(`${root}build/bpf/sockeye.bpf.o`)) return 'build/bpf/sockeye.bpf.o missing (run make)';
  if (!existsSync(`${root}build/Release/sockeye_native.node`)) return 'native addon missing (run make)';
  if (!existsSync(`${root}dist/agent/capture/kernel-capture.js`)) return 'kernel capture not built';
  return undefined;
}

import { freePort } from '../../helpers/free-port.js';
export { freePort };

export class AgentChild {
  stderr = '';
  private constructor(readonly proc: ChildProcess, readonly metricsUrl: string, private readonly dir: string) {}

  /**
   * The usual test agent: exporting to `endpoint` (OTLP/gRPC) with short metric and span delays,
   * plus the test's own config lines (whole top-level sections, e.g. 'signals:', '  link_wait_ms: 300').
   */
  static exportingTo(endpoint: string, lines: string[] = []): Promise<AgentChild> {
    return AgentChild.start((listen) => [
      `listen: ${listen}`, 'export:', `  endpoint: ${endpoint}`, '  metric_interval_ms: 500', '  span_delay_ms: 100', ...lines,
    ].join('\n'));
  }

  static async start(yaml: (listen: string) => string): Promise<AgentChild> {
    const listen = `127.0.0.1:${await freePort()}`;
    const dir = mkdtempSync('/tmp/sockeye-agent-e2e-');
    writeFileSync(`${dir}/agent.yaml`, yaml(listen));
    const proc = spawn(process.execPath, [`${root}bin/sockeye.js`, 'agent', '--config', `${dir}/agent.yaml`, '--no-live'],
      // A budget no test reaches: on this shared machine the CPU budget would sample spans the tests count
      // (the budget is measured in bench/overhead; tests force sampling with sampling.probability).
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, OTEL_SERVICE_NAME: 'sockeye-agent-under-test', SOCKEYE_AGENT_CPU_BUDGET: '64' } });
    const a = new AgentChild(proc, `http://${listen}`, dir);
    proc.stderr!.setEncoding('utf8').on('data', (d: string) => { a.stderr += d; });
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`agent exited ${proc.exitCode}: ${a.stderr}`);
      try {
        if ((await fetch(`${a.metricsUrl}/readyz`)).status === 200) break;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`agent not ready in 30 s: ${a.stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return a;
  }

  async metrics(): Promise<string> {
    return (await fetch(`${this.metricsUrl}/metrics`)).text();
  }

  /** SIGTERM, wait for a clean exit; returns the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
      await once(this.proc, 'exit');
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
    return this.proc.exitCode;
  }
}
