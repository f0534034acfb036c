// The parsers the engine uses unless given another registry: one line per protocol.
import { ParserRegistry } from './parser-registry.js';

export function builtinParsers(): ParserRegistry {
  const registry = new ParserRegistry();
  // http1 / http2 / dns register here as their parsers land:
  //   registry.register('http2', createHttp2Parser);
  return registry;
}
