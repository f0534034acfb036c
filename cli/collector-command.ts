// `sockeye collector`: runs the cluster collector from a YAML config until SIGINT/SIGTERM.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../otel-collector/service/collector-config.js';
import { Service } from '../otel-collector/service/service.js';
import { builtinRegistry } from '../otel-collector/components.js';
import { ConfigError } from '../common/config/config-schema.js';

export const DEFAULT_CONFIG = fileURLToPath(new URL('../../processor-config/collector.yaml', import.meta.url));

const HELP = `usage: sockeye collector [--config FILE] [--validate]

Runs the cluster collector: OTLP in, processors, service graph, OTLP and Prometheus out.

  --config FILE   pipeline YAML (default: ${DEFAULT_CONFIG})
  --validate      check the config, print what it builds, and exit
  -h, --help      this text

Components: see docs/collector.md. Values may use \${env:NAME} or \${env:NAME:-default}.`;

export const collectorCommand = {
  summary: 'run the cluster collector (OTLP in → processors → service graph → OTLP/Prometheus out)',
  async run(args: string[]): Promise<number> {
    let opts: { config?: string; validate?: boolean; help?: boolean };
    try {
      opts = parseArgs({ args, options: {
        config: { type: 'string', short: 'c' }, validate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      } }).values;
    } catch (e) {
      console.error(`sockeye collector: ${(e as Error).message}\n\n${HELP}`);
      return 2;
    }
    if (opts.help) { console.log(HELP); return 0; }
    const file = opts.config ?? DEFAULT_CONFIG;
    let service: Service;
    try {
      const config = loadConfigFile(file, builtinRegistry());
      if (opts.validate) {
        console.log(`${file}: valid; pipelines: ${config.service.pipelines.map((p) =>
          `${p.id} [${p.receivers.join(',')}] → [${p.processors.join(',')}] → [${p.exporters.join(',')}]`).join('; ')}`);
        return 0;
      }
      service = new Service(config);
    } catch (e) {
      if (e instanceof ConfigError) { console.error(`sockeye collector: invalid config ${file}: ${e.message}`); return 2; }
      throw e;
    }
    try {
      await service.start();
    } catch (e) {
      console.error(`sockeye collector: ${(e as Error).message}`);
      return 1;
    }
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => { service.logger.info(`${sig}: shutting down`); resolve(); };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    await service.shutdown();
    return 0;
  },
};
