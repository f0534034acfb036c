// The chart's template renderer: Go-template whitespace trimming, if/else truth, the four functions,
// and a clear error for anything outside the subset (so the chart cannot silently outgrow it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderTemplate, mergeValues } from './helpers/go-template-subset.js';

const scope = { Values: { name: 'x', n: 0, on: true, empty: {}, list: ['a', 'b'], map: { b: 1, a: { c: 'd' } }, s: 'say "hi"', ml: 'p\nq' } };
const r = (src: string) => renderTemplate('t', src, scope);

test('fields print; "{{-" and "-}}" trim every adjacent whitespace, newlines included', () => {
  assert.equal(r('a: {{ .Values.name }}\n'), 'a: x\n');
  assert.equal(r('a\n  \n  {{- .Values.name }}  \n'), 'ax  \n');
  assert.equal(r('a {{ .Values.name -}}\n\n  b'), 'a xb');
  assert.equal(r('{{ .Values.n }} {{ .Values.on }}'), '0 true');
});

test('if/else follow Go truth: 0, "", empty map and list are false', () => {
  assert.equal(r('{{ if .Values.n }}y{{ else }}n{{ end }}'), 'n');
  assert.equal(r('{{ if .Values.empty }}y{{ else }}n{{ end }}'), 'n');
  assert.equal(r('{{ if .Values.list }}y{{ end }}'), 'y');
  assert.equal(r('k:\n{{- if .Values.on }}\n  v: 1\n{{- end }}\n'), 'k:\n  v: 1\n');
});

test('quote, toYaml, indent and nindent behave like Helm', () => {
  assert.equal(r('{{ .Values.s | quote }}'), '"say \\"hi\\""');
  assert.equal(r('{{ .Values.n | quote }}'), '"0"');
  assert.equal(r('{{ .Values.map | toYaml }}'), 'a:\n  c: d\nb: 1');          // keys sorted, no trailing newline
  assert.equal(r('x:{{ .Values.list | toYaml | nindent 2 }}'), 'x:\n  - a\n  - b');
  assert.equal(r('{{ .Values.ml | indent 3 }}'), '   p\n   q');
  assert.equal(r('{{ "lit" | quote }}'), '"lit"');
  assert.equal(r('{{ .Values.empty | toYaml }}'), '{}');
});

test('anything outside the subset, and missing values, fail with the template name', () => {
  assert.throws(() => r('{{ range .Values.list }}{{ end }}'), /^Error: t: unsupported: \{\{ range/);
  assert.throws(() => r('{{ include "x" . }}'), /unsupported/);
  assert.throws(() => r('{{ .Values.name | default "y" }}'), /unsupported function: default/);
  assert.throws(() => r('{{ .Values.nope }}'), /missing value: \.Values\.nope/);
  assert.throws(() => r('{{ .Values.map }}'), /without toYaml/);
  assert.throws(() => r('{{ if .Values.on }}open'), /if without end/);
  assert.throws(() => r('{{/* c */}}'), /comments/);
});

test('values merge like Helm: maps key by key, lists replace', () => {
  assert.deepEqual(mergeValues({ a: { b: 1, c: [1, 2] }, d: 1 }, { a: { c: [3] } }), { a: { b: 1, c: [3] }, d: 1 });
});
