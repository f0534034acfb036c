// The one `sockeye` CLI: dispatches to a subcommand module, loaded lazily so that e.g. the
// collector never loads the BPF addon.
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

// name -> one-line summary and a lazy import of its Command (so --help loads nothing heavy).
const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  agent: {
    summary: 'run the node agent: capture traffic, export OTLP spans and RED metrics, serve /metrics',
    load: async () => (await import('./agent-command.js')).command,
  },
  collector: {
    summary: 'run the cluster collector: OTLP in, Kubernetes metadata, NAT, service graph, OTLP/Prometheus out',
    load: async () => (await import('./collector-command.js')).collectorCommand,
  },
  trace: {
    summary: 'live view of captured HTTP, HTTP/2 (gRPC) and DNS events, like tcpdump for L7',
    load: async () => (await import('./trace-command.js')).command,
  },
};

function usage(): string {
  const lines = Object.keys(commands).sort().map((c) => `  sockeye ${c.padEnd(10)} ${commands[c]!.summary}`);
  return `usage: sockeye <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun \`sockeye <command> --help\` for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return name ? 0 : 2;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    console.error(`sockeye: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  return (await entry.load()).run(rest);
}
