// `sockeye agent`: flags and config, then the agent (agent/agent.ts: kernel capture → protocol
// engine → spans + RED metrics → OTLP, /metrics, /healthz, /readyz) and an optional live terminal
// view. Logs go to stderr; the live view to stdout.
import type { Command } from './main.js';
import { ConfigError, FIELDS, loadAgentConfig, type AgentConfig } from '../agent/config/agent-config.js';
import { exportTargetText, liveViewShown, startAgent, type RunningAgent } from '../agent/agent.js';
import { LiveView, renderLiveView } from './live-view.js';
import { startupCheck } from '../agent/capture/startup-check.js';
import { readFlags, type FlagProblem, type FlagSpec } from './flags.js';
import { samplingSummary } from '../agent/sampling/sampling-telemetry.js';

export const FLAGS: Array<[string, string, string]> = [
  ['--config FILE', '', 'YAML config file (keys below; nested under their section)'],
  ['--listen HOST:PORT', 'listen', ''],
  ['--endpoint URL', 'export.endpoint', ''],
  ['--protocol P', 'export.protocol', ''],
  ['--cpu-budget CORES', 'sampling.cpu_budget', ''],
  ['--no-export', 'export.enabled', 'do not export over OTLP (live view and /metrics only)'],
  ['--live / --no-live', 'live_view', ''],
];

/** Per-signal variables the agent cannot honour: one exporter config serves both signals. */
const UNUSED_PER_SIGNAL_ENV = ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'OTEL_EXPORTER_OTLP_METRICS_PROTOCOL',
  'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_METRICS_TIMEOUT'];

export function agentHelp(): string {
  const lines = ['usage: sockeye agent [--config FILE] [flags]', '',
    'Turns HTTP/1.1, HTTP/2, gRPC and DNS traffic on this node into OTLP spans and RED metrics.', '', 'flags:'];
  for (const [flag, key, text] of FLAGS) lines.push(`  ${flag.padEnd(22)} ${text || `sets ${key}`}`);
  lines.push('', 'config keys (YAML; precedence: defaults < OTEL_* environment < file < flags):');
  for (const f of FIELDS) lines.push(`  ${f.key.padEnd(32)} ${f.help} [default: ${f.def}]`);
  lines.push('', 'environment: OTEL_EXPORTER_OTLP_{,TRACES_,METRICS_}{ENDPOINT,HEADERS,COMPRESSION},',
    '  OTEL_EXPORTER_OTLP_PROTOCOL and OTEL_EXPORTER_OTLP_TIMEOUT (one protocol and timeout for both signals;',
    '  the per-signal forms are reported at start as not used), OTEL_METRIC_EXPORT_INTERVAL,',
    '  OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER=none with OTEL_METRICS_EXPORTER=none (no export),',
    '  SOCKEYE_AGENT_CPU_BUDGET (sampling.cpu_budget).',
    '', 'endpoints: /metrics (Prometheus text), /healthz, /readyz on the listen address.');
  return lines.join('\n');
}

const AGENT_FLAGS: FlagSpec = {
  help: { type: 'boolean', short: 'h' }, config: { type: 'string' }, listen: { type: 'string' },
  endpoint: { type: 'string' }, protocol: { type: 'string' }, 'cpu-budget': { type: 'string' }, 'no-export': { type: 'boolean' },
  live: { type: 'boolean' }, 'no-live': { type: 'boolean' },
};

export function parseAgentArgs(args: string[]): { file?: string; overrides: Record<string, unknown>; help: boolean } {
  const overrides: Record<string, unknown> = {};
  let file: string | undefined;
  let help = false;
  const problem: FlagProblem = (kind, f) => {
    throw new ConfigError(f.raw, kind === 'missing' ? 'needs a value' : 'unknown flag (see sockeye agent --help)', 'flags');
  };
  for (const { name, value } of readFlags(args, AGENT_FLAGS, problem)) {
    switch (name) {
      case 'help': help = true; break;
      case 'config': file = value; break;
      case 'listen': overrides.listen = value; break;
      case 'endpoint': overrides['export.endpoint'] = value; break;
      case 'protocol': overrides['export.protocol'] = value; break;
      case 'cpu-budget': overrides['sampling.cpu_budget'] = value; break;
      case 'no-export': overrides['export.enabled'] = false; break;
      case 'live': overrides.live_view = 'on'; break;
      case 'no-live': overrides.live_view = 'off'; break;
    }
  }
  return { file, overrides, help };
}

export const command: Command = {
  summary: 'run the node agent: capture traffic, export OTLP spans and RED metrics',
  async run(args: string[]): Promise<number> {
    let cfg: AgentConfig;
    try {
      const parsed = parseAgentArgs(args);
      if (parsed.help) { console.log(agentHelp()); return 0; }
      cfg = loadAgentConfig({ file: parsed.file, overrides: parsed.overrides });
    } catch (e) {
      if (e instanceof ConfigError) { console.error(`sockeye agent: ${e.message}`); return 2; }
      throw e;
    }
    const log = (l: string) => process.stderr.write(`sockeye agent: ${l}\n`);
    // Listen before starting: a SIGTERM while the programs load (seconds) must still end in a clean
    // stop, not kill the agent half-attached. A second signal gets the default (immediate exit).
    let signalled: string | undefined;
    let wake: (() => void) | undefined;
    const onSignal = (sig: string) => { if (signalled) return; signalled = sig; log(`${sig}: flushing and detaching`); wake?.(); };
    const onInt = () => onSignal('SIGINT');
    const onTerm = () => onSignal('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    // A start that fails ends the process: signals get their default action back, and whatever
    // might still hold the event loop open cannot keep it alive past a short grace.
    const failed = (why: string) => {
      log(`cannot start: ${why}`);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      setTimeout(() => process.exit(1), 2000).unref();
      return 1;
    };
    for (const v of UNUSED_PER_SIGNAL_ENV) {
      if (process.env[v]?.trim()) log(`${v} is not used: both signals go out with one protocol and timeout (export.protocol, export.timeout_ms, or OTEL_EXPORTER_OTLP_PROTOCOL / _TIMEOUT)`);
    }
    const check = startupCheck();
    if (check.fatal) return failed(check.fatal);
    for (const w of check.warnings) log(w);
    let agent: RunningAgent;
    try {
      agent = await startAgent(cfg, log);
    } catch (e) {
      return failed((e as Error).message);
    }
    const started = Date.now();
    const live = liveViewShown(cfg)
      ? new LiveView(() => renderLiveView(agent.pipeline.live.rows(), {
        uptimeS: (Date.now() - started) / 1000,
        exportTarget: cfg.export.enabled ? `${cfg.export.protocol} ${exportTargetText(cfg, process.env)}` : 'off',
        metricsUrl: `http://${agent.server.address}/metrics`,
        counters: [['spans', agent.telemetry.get('sockeye_spans_total')], ['exported', agent.telemetry.get('sockeye_spans_exported_total')],
          ['lost', agent.telemetry.get('sockeye_capture', { counter: 'lostEvents' })]],
        sampling: samplingSummary(agent.sampling.sampler, agent.sampling.controller),
      }))
      : undefined;
    if (!signalled) {
      live?.start(cfg.liveViewRefreshMs);
      await new Promise<void>((resolve) => { wake = resolve; });
    }
    live?.stop();
    await agent.stop();
    log('stopped');
    return 0;
  },
};
