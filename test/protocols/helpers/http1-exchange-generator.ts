// Random valid HTTP/1.1 exchanges for property tests, the fuzzer and the benchmark: rendered to
// bytes, cut into events in kernel order, optionally with capture caps and loss.
import fc from 'fast-check';
import type { Role } from '../../../agent/capture/capture-events.js';
import { EventScript } from './engine-event-script.js';

export interface BuildOptions { connId?: number; role?: Role; close?: boolean }

export interface Exchange { method: string; reqBody: number; reqChunked: boolean; status: number; respBody: number; respChunked: boolean; interim: boolean }

export const exchangeArb: fc.Arbitrary<Exchange> = fc.record({
  method: fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE'),
  reqBody: fc.nat(300),
  reqChunked: fc.boolean(),
  status: fc.constantFrom(200, 201, 202, 204, 301, 304, 400, 404, 500, 503),
  respBody: fc.nat(2000),
  respChunked: fc.boolean(),
  interim: fc.boolean(),
});

export function chunked(n: number): string {
  let out = '', left = n;
  while (left > 0) { const k = Math.min(left, 97); out += `${k.toString(16)}\r\n${'c'.repeat(k)}\r\n`; left -= k; }
  return out + '0\r\n\r\n';
}

/** Request and final-response bytes of exchange i; the X-Pad header makes every response's size unique. */
export function render(e: Exchange, i: number): { req: string; interim: string; resp: string } {
  const hasReqBody = e.method === 'POST' || e.method === 'PUT';
  let req = `${e.method} /r${i} HTTP/1.1\r\nHost: svc\r\n`;
  if (hasReqBody) req += e.reqChunked ? `Transfer-Encoding: chunked\r\n\r\n${chunked(e.reqBody)}` : `Content-Length: ${e.reqBody}\r\n\r\n${'q'.repeat(e.reqBody)}`;
  else req += '\r\n';
  const noBody = e.method === 'HEAD' || e.status === 204 || e.status === 304;
  let resp = `HTTP/1.1 ${e.status} X\r\nX-Pad: ${'p'.repeat(i)}\r\n`;
  if (e.respChunked && !noBody) resp += `Transfer-Encoding: chunked\r\n\r\n${chunked(e.respBody)}`;
  else if (noBody) resp += e.status === 204 ? '\r\n' : `Content-Length: ${e.respBody}\r\n\r\n`;
  else resp += `Content-Length: ${e.respBody}\r\n\r\n${'b'.repeat(e.respBody)}`;
  return { req, interim: e.interim && hasReqBody ? 'HTTP/1.1 100 Continue\r\n\r\n' : '', resp };
}

/** Cuts `text` into pieces at the given fractions. */
function cut(text: string, fractions: number[]): string[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * text.length)))].filter((p) => p > 0 && p < text.length).sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) { out.push(text.slice(last, p)); last = p; }
  out.push(text.slice(last));
  return out;
}

export interface Plan { exchanges: Exchange[]; batch: number; splits: number[]; loss: number[]; caps: number[] }

/** Events in kernel order: a batch of requests, then their responses. Returns the script and the truth. */
export function build(plan: Plan, lossy: boolean, protectFirstBatch: boolean, opts: BuildOptions = {}) {
  const role = opts.role ?? 'client';
  const s = new EventScript(opts.connId ?? 1, role);
  // The client writes requests (egress on its side); a server reads them (ingress).
  const flip = (d: 'egress' | 'ingress') => (role === 'server' ? (d === 'egress' ? 'ingress' : 'egress') : d);
  const truth = plan.exchanges.map(render);
  let k = 0, r = 0;
  const rand = () => plan.splits[(r++) % plan.splits.length]!;
  const lossAt = () => plan.loss[(k++) % plan.loss.length]!;
  for (let start = 0; start < truth.length; start += plan.batch) {
    const group = truth.slice(start, start + plan.batch);
    const protect = protectFirstBatch && start === 0;
    const emit = (clientDir: 'egress' | 'ingress', text: string) => {
      const dir = flip(clientDir);
      for (const piece of cut(text, [rand(), rand()])) {
        const roll = lossAt();
        if (lossy && !protect && roll < 0.08) s.gap(dir, piece.length);
        else if (lossy && !protect && roll < 0.16) s.data(dir, piece, plan.caps[k % plan.caps.length]!);
        else s.data(dir, piece);
      }
    };
    emit('egress', group.map((g) => g.req).join(''));
    emit('ingress', group.map((g) => g.interim + g.resp).join(''));
  }
  if (opts.close !== false) s.close();
  return { s, truth };
}

export const planArb = (maxBatch: number) => fc.record({
  exchanges: fc.array(exchangeArb, { minLength: 1, maxLength: 12 }),
  batch: fc.integer({ min: 1, max: maxBatch }),
  splits: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }),
  loss: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 16 }),
  caps: fc.array(fc.nat(120), { minLength: 1, maxLength: 4 }),
});

