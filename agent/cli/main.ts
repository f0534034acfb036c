// The one `sockeye` CLI: dispatches to a subcommand module, loaded lazily so that e.g. the
// collector never loads the BPF addon.
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const commands: Record<string, () => Promise<Command>> = {
  // Each subcommand module registers here: name -> lazy import of its Command.
  agent: async () => (await import('./agent-command.js')).command,
  collector: async () => (await import('../../otel-collector/cli/collector-command.js')).collectorCommand,
  trace: async () => (await import('./trace-command.js')).command,
};

function usage(): string {
  const lines = Object.keys(commands).sort().map((c) => `  sockeye ${c}`);
  return `usage: sockeye <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`sockeye <command> --help\` for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const load = commands[name];
  if (!load) {
    console.error(`sockeye: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await load()).run(rest);
}
