// The parsers the engine uses unless given another registry: one line per protocol.
import { createHttp1Parser } from '../http1/http1-connection-parser.js';
import { ParserRegistry } from './parser-registry.js';

export function builtinParsers(): ParserRegistry {
  const registry = new ParserRegistry();
  registry.register('http1', createHttp1Parser);
  // http2 / dns register here as their parsers land, e.g. registry.register('http2', createHttp2Parser);
  return registry;
}
