// http.route heuristic for metric attributes and span names: ids in paths are templated so a
// service's routes stay a small set; each service gets a cap, and paths beyond it are counted
// and folded into one overflow route. Path parameters are dropped and secrets redacted
// (redaction.ts): a route lands in span names and metric labels.
import { redactPath } from './redaction.js';

export const OVERFLOW_ROUTE = '/{overflow}';

const NUMERIC = /^\d+$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const HEX = /^(?=.*\d)[0-9a-f]{8,}$/i; // hex ids: 8+ hex digits with at least one digit
const LONG_MIXED = /^(?=.*\d)[A-Za-z0-9_-]{16,}$/; // base64-ish tokens, long hashes

export function templateSegment(raw: string): string {
  // Path parameters (`;jsessionid=…`) are per request, never part of the route.
  const semi = raw.indexOf(';');
  const seg = semi < 0 ? raw : raw.slice(0, semi);
  if (seg === '') return seg;
  if (NUMERIC.test(seg)) return '{id}';
  if (UUID.test(seg)) return '{uuid}';
  if (HEX.test(seg)) return '{hex}';
  if (LONG_MIXED.test(seg)) return '{token}';
  return seg;
}

/** Templates a raw path (no query); userinfo and encoded credentials in it are redacted first. */
export function templatePath(path: string): string {
  const q = path.indexOf('?');
  const p = redactPath(q < 0 ? path : path.slice(0, q));
  if (p === '' || p === '/') return '/';
  return p.split('/').map(templateSegment).join('/');
}

export class RouteRegistry {
  private readonly perService = new Map<string, Set<string>>();
  // Raw path → template, so repeated paths skip the regexes; bounded, cleared when full.
  private readonly templated = new Map<string, string>();
  overflowed = 0;

  constructor(private readonly capPerService: number, private readonly cacheSize = 16_384) {}

  /** The bounded route for this service and raw path. */
  route(service: string, path: string): string {
    let r = this.templated.get(path);
    if (r === undefined) {
      r = templatePath(path);
      if (this.templated.size >= this.cacheSize) this.templated.clear();
      this.templated.set(path, r);
    }
    let routes = this.perService.get(service);
    if (!routes) {
      routes = new Set();
      this.perService.set(service, routes);
    }
    if (routes.has(r)) return r;
    if (routes.size >= this.capPerService) {
      this.overflowed++;
      return OVERFLOW_ROUTE;
    }
    routes.add(r);
    return r;
  }
}
