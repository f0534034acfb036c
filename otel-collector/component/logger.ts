// Minimal leveled logger: one line per event on stderr, prefixed by the component id.
export type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(component: string): Logger;
}

export function createLogger(min: Level = 'info', prefix = 'collector', sink: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const emit = (level: Level, msg: string) => {
    if (ORDER[level] >= ORDER[min]) sink(`${new Date().toISOString()} ${level} [${prefix}] ${msg}`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (c) => createLogger(min, `${prefix === 'collector' ? '' : prefix + '/'}${c}`, sink),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silentLogger };
