// The parsers the engine uses unless given another registry: one line per protocol.
import { createHttp1Parser } from '../http1/http1-connection-parser.js';
import { createHttp2Parser } from '../http2/http2-parser.js';
import { createDnsParser } from '../dns/dns-parser.js';
import { ParserRegistry } from './parser-registry.js';

export function builtinParsers(): ParserRegistry {
  const registry = new ParserRegistry();
  registry.register('http1', createHttp1Parser);
  registry.register('http2', createHttp2Parser);
  registry.register('dns', createDnsParser);
  return registry;
}
