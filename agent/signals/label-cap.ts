// Bounds metric labels whose values come from the wire (a Host header, an :authority, a DNS
// question, a gRPC :path): each service keeps at most `capPerService` distinct values per attribute;
// later values are folded into `_OTHER` and counted, so a client that talks to 5,000 hosts costs
// `capPerService` series, not 5,000. Spans keep the real value: only series are bounded.
export const OVERFLOW_VALUE = '_OTHER';

export class LabelCap {
  /** service → attribute → values admitted so far. */
  private readonly perService = new Map<string, Map<string, Set<string>>>();
  /** attribute → values folded into _OTHER. */
  readonly overflowed = new Map<string, number>();

  constructor(private readonly capPerService: number) {}

  /** The value to put on the series: `value` itself while the service has room, else _OTHER. */
  bound(service: string, attribute: string, value: string): string {
    let attrs = this.perService.get(service);
    if (!attrs) this.perService.set(service, (attrs = new Map()));
    let values = attrs.get(attribute);
    if (!values) attrs.set(attribute, (values = new Set()));
    if (values.has(value)) return value;
    if (values.size >= this.capPerService) {
      this.overflowed.set(attribute, (this.overflowed.get(attribute) ?? 0) + 1);
      return OVERFLOW_VALUE;
    }
    values.add(value);
    return value;
  }
}
