// Component registry: factories by kind and type. The service resolves every `type[/name]` in the
// config through it, so an unknown type fails at load time with the list of known ones.
import type { AnyFactory, Kind, ReceiverFactory, ProcessorFactory, ExporterFactory, ConnectorFactory, ExtensionFactory } from './factory.js';

export interface FactoriesByKind {
  receiver: ReceiverFactory; processor: ProcessorFactory; exporter: ExporterFactory;
  connector: ConnectorFactory; extension: ExtensionFactory;
}

export class Registry {
  private readonly byKind = new Map<Kind, Map<string, AnyFactory>>();

  constructor(factories: AnyFactory[] = []) {
    for (const f of factories) this.register(f);
  }

  register(f: AnyFactory): this {
    let m = this.byKind.get(f.kind);
    if (!m) this.byKind.set(f.kind, (m = new Map()));
    if (m.has(f.type)) throw new Error(`duplicate ${f.kind} factory for type "${f.type}"`);
    m.set(f.type, f);
    return this;
  }

  get<K extends Kind>(kind: K, type: string): FactoriesByKind[K] | undefined {
    return this.byKind.get(kind)?.get(type) as FactoriesByKind[K] | undefined;
  }

  types(kind: Kind): string[] {
    return [...(this.byKind.get(kind)?.keys() ?? [])].sort();
  }
}
