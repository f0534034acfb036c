// Which parser handles which kernel protocol verdict. The engine asks the registry for a factory
// the first time it sees a connection with a known verdict (or when a parser hands over, h2c).
import type { ProcessInfo, Role, SocketTuple } from '../../capture/capture-events.js';
import type { ConnectionParser, ProtocolSwitch, SwitchingParserSink } from '../protocol-parser.js';
import type { EngineOptions } from './engine-options.js';

export type ParsedProtocol = 'http1' | 'http2' | 'dns';

/** What a parser knows about its connection (from the connection's first event). */
export interface ConnectionInfo {
  connId: number;
  role: Role;
  tuple: SocketTuple;
  process: ProcessInfo;
}

/**
 * Builds the parser of one connection. `sink` also offers switchProtocol (h2c / tunnels);
 * `handover` is set when this parser takes over from another one on the same connection.
 */
export type ParserFactory = (
  conn: ConnectionInfo,
  sink: SwitchingParserSink,
  options: EngineOptions,
  handover?: ProtocolSwitch,
) => ConnectionParser;

export class ParserRegistry {
  private readonly factories = new Map<ParsedProtocol, ParserFactory>();

  register(protocol: ParsedProtocol, factory: ParserFactory): this {
    this.factories.set(protocol, factory);
    return this;
  }

  get(protocol: ParsedProtocol): ParserFactory | undefined {
    return this.factories.get(protocol);
  }

  protocols(): ParsedProtocol[] {
    return [...this.factories.keys()];
  }
}
