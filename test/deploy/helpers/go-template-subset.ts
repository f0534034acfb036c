// A renderer for the small part of Helm's Go-template language the sockeye chart uses, so the chart
// can be tested where the helm binary is not available (not in Debian; nothing else can be fetched).
// Supported, with Go/Helm semantics:
//   text and actions {{ ... }}, with "{{-" / "-}}" trimming all adjacent whitespace (newlines too);
//   {{ if PIPELINE }} ... [{{ else }} ...] {{ end }}, truth as in Go (false, 0, "", nil, empty map/list are false);
//   a pipeline is a field (.Values.a.b, .Chart.Name, .Release.Namespace) or a "string", then
//   "| fn [int]" stages with fn one of quote, toYaml, indent N, nindent N.
// Anything else (range, with, define/include, tpl, default, comments, variables, ...) throws, so a
// chart edit that goes beyond this subset fails the tests instead of being rendered wrongly.
// Differences from Helm that do not change the parsed YAML: toYaml comes from the yaml package
// (keys sorted like Helm's, but it may choose other quoting styles); a missing key is an error
// (Helm prints nothing), to catch typos in templates.
import { stringify } from 'yaml';

type Node = { t: 'text'; s: string } | { t: 'out'; pipe: string } | { t: 'if'; pipe: string; then: Node[]; else: Node[] };
export type Scope = Record<string, unknown>;

interface Token { kind: 'text' | 'action'; s: string }

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { out.push({ kind: 'text', s: src.slice(i) }); break; }
    out.push({ kind: 'text', s: src.slice(i, open) });
    const close = src.indexOf('}}', open);
    if (close < 0) throw new Error(`unclosed action at offset ${open}`);
    let body = src.slice(open + 2, close);
    if (body.startsWith('- ')) { out[out.length - 1]!.s = out[out.length - 1]!.s.replace(/\s+$/, ''); body = body.slice(1); }
    else if (body.startsWith('-')) throw new Error(`"{{-" must be followed by a space (offset ${open})`);
    let next = close + 2;
    if (body.endsWith(' -')) { body = body.slice(0, -1); const m = /^\s*/.exec(src.slice(next))!; next += m[0].length; }
    if (body.trimStart().startsWith('/*')) throw new Error(`unsupported: comments (offset ${open})`);
    out.push({ kind: 'action', s: body.trim() });
    i = next;
  }
  return out;
}

function parse(tokens: Token[]): Node[] {
  let pos = 0;
  const block = (inIf: boolean): { nodes: Node[]; end: 'end' | 'else' | 'eof' } => {
    const nodes: Node[] = [];
    while (pos < tokens.length) {
      const tok = tokens[pos++]!;
      if (tok.kind === 'text') { if (tok.s) nodes.push({ t: 'text', s: tok.s }); continue; }
      const word = tok.s.split(/\s+/)[0]!;
      if (word === 'end' || word === 'else') {
        if (!inIf) throw new Error(`unexpected {{ ${tok.s} }}`);
        if (tok.s !== word) throw new Error(`unsupported: {{ ${tok.s} }}`);
        return { nodes, end: word };
      }
      if (word === 'if') {
        const then = block(true);
        let other: Node[] = [];
        if (then.end === 'else') {
          const e = block(true);
          if (e.end !== 'end') throw new Error('if: else without end');
          other = e.nodes;
        } else if (then.end !== 'end') throw new Error(`if without end: {{ ${tok.s} }}`);
        nodes.push({ t: 'if', pipe: tok.s.slice(2).trim(), then: then.nodes, else: other });
        continue;
      }
      if (['range', 'with', 'define', 'template', 'include', 'block', 'tpl'].includes(word) || word.startsWith('$')) {
        throw new Error(`unsupported: {{ ${tok.s} }}`);
      }
      nodes.push({ t: 'out', pipe: tok.s });
    }
    if (inIf) return { nodes, end: 'eof' };
    return { nodes, end: 'eof' };
  };
  const r = block(false);
  return r.nodes;
}

function lookup(path: string, scope: Scope): unknown {
  if (!/^(\.[A-Za-z_][A-Za-z0-9_]*)+$/.test(path)) throw new Error(`unsupported operand: ${path}`);
  let v: unknown = scope;
  for (const key of path.slice(1).split('.')) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !(key in (v as object))) throw new Error(`missing value: ${path}`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function goQuote(s: string): string {
  if (/[\x00-\x08\x0b-\x1f\x7f]/.test(s)) throw new Error('unsupported: quote of a control character');
  return JSON.stringify(s); // equals Go's %q for text without other control characters
}

function print(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`cannot print a ${Array.isArray(v) ? 'list' : 'map'} without toYaml`);
}

function evalPipe(pipe: string, scope: Scope): unknown {
  const stages = pipe.split('|').map((s) => s.trim());
  const first = stages.shift()!;
  let v: unknown = /^"[^"\\]*"$/.test(first) ? first.slice(1, -1) : lookup(first, scope);
  for (const st of stages) {
    const [fn, ...args] = st.split(/\s+/);
    if (fn === 'quote' && args.length === 0) v = goQuote(print(v));
    else if (fn === 'toYaml' && args.length === 0) v = v === null || v === undefined ? 'null' : stringify(v, { sortMapEntries: true, indentSeq: false }).replace(/\n$/, '');
    else if ((fn === 'indent' || fn === 'nindent') && args.length === 1 && /^\d+$/.test(args[0]!)) {
      const pad = ' '.repeat(Number(args[0]));
      v = (fn === 'nindent' ? '\n' : '') + pad + print(v).replace(/\n/g, `\n${pad}`);
    } else throw new Error(`unsupported function: ${st}`);
  }
  return v;
}

function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function run(nodes: Node[], scope: Scope): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'out') out += print(evalPipe(n.pipe, scope));
    else out += run(truth(evalPipe(n.pipe, scope)) ? n.then : n.else, scope);
  }
  return out;
}

/** Renders one template; `name` prefixes errors. */
export function renderTemplate(name: string, src: string, scope: Scope): string {
  try {
    return run(parse(tokenize(src)), scope);
  } catch (e) {
    throw new Error(`${name}: ${(e as Error).message}`);
  }
}

/** Helm's value merge: maps merge key by key, anything else (lists too) replaces. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over)) out[k] = mergeValues(out[k], v);
    return out;
  }
  return over;
}
