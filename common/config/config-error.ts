// The one error for a bad setting, in the agent's and the collector's configuration alike: it names
// the key path and why. With a `source` (the agent: 'config', 'env', 'flags') the message says where
// the value came from: `flags: 'export.timeout_ms': must be ≥ 1`; without: `path: reason`.
export class ConfigError extends Error {
  constructor(readonly path: string, readonly reason: string, readonly source?: string) {
    super(source !== undefined ? `${source}: '${path}': ${reason}` : path ? `${path}: ${reason}` : reason);
    this.name = 'ConfigError';
  }
}
