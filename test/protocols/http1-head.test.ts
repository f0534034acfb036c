// The head parser alone: bytes in, Http1Head out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HEAD_INCOMPLETE, HEAD_INVALID, Http1Head, looksLikeRequestStart, looksLikeResponseStart, parseHead } from '../../agent/protocols/http1/http1-head.js';

const parse = (text: string, partial = false, maxHeaders = 100) => {
  const head = new Http1Head();
  const bytes = Buffer.from(text, 'latin1');
  return { end: parseHead(bytes, 0, bytes.length, head, maxHeaders, partial), head, length: bytes.length };
};

test('request line, header names in any case, values trimmed, credentials by name only', () => {
  const { end, head, length } = parse('PATCH /v1/x?y=1 HTTP/1.0\r\nhOsT:  api.test \r\nUSER-AGENT:\tk6/0.5\r\ncontent-LENGTH: 12\r\n' +
    'Connection: Keep-Alive, Upgrade\r\nUpgrade: WebSocket\r\nAuthorization: Basic x\r\nCookie: a=b\r\nProxy-Authorization: p\r\nX-Other: v\r\n\r\nbody');
  assert.equal(end, length - 4);
  assert.deepEqual([head.kind, head.method, head.target, head.versionMinor], ['request', 'PATCH', '/v1/x?y=1', 0]);
  assert.deepEqual([head.host, head.userAgent, head.contentLength, head.connectionKeepAlive, head.connectionClose, head.upgrade],
    ['api.test', 'k6/0.5', 12, true, false, 'websocket']);
  assert.deepEqual(head.sensitive, ['authorization', 'cookie', 'proxy-authorization']);
  assert.equal(head.headerCount, 9);
});

test('status line; bare LF line ends; obsolete folding skipped', () => {
  const { end, head, length } = parse('HTTP/1.1 404 Not Found\nContent-Length: 3\nX-Folded: a\n  b\nTransfer-Encoding: gzip, chunked\n\nabc');
  assert.equal(end, length - 3);
  assert.deepEqual([head.kind, head.status, head.contentLength, head.chunked, head.badFraming], ['response', 404, 3, true, false]);
});

test('framing problems are flagged, not guessed', () => {
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n').head.badFraming, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n').head.badFraming, false);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n').head.badFraming, true);
  assert.equal(parse('HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999\r\n\r\n').head.badFraming, true);
  const te = parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n').head;
  assert.deepEqual([te.chunked, te.badFraming], [false, true]);
});

test('incomplete, partial and invalid heads', () => {
  assert.equal(parse('GET / HTTP/1.1\r\nHost: a\r\n').end, HEAD_INCOMPLETE);
  assert.equal(parse('GET / HTTP/1.1\r\nHo').end, HEAD_INCOMPLETE);
  const cut = parse('GET /cut HTTP/1.1\r\nHost: a\r\nUser-Ag', true);
  assert.deepEqual([cut.end, cut.head.target, cut.head.host, cut.head.degraded], [cut.length, '/cut', 'a', true]);
  for (const bad of ['GET  / HTTP/1.1\r\n\r\n', 'GET / HTTP/2.0x\r\n\r\n', 'GET / FTP/1.1\r\n\r\n', 'HTTP/1.1 2x0 OK\r\n\r\n', '\x00\x01 / HTTP/1.1\r\n\r\n', 'G(T / HTTP/1.1\r\n\r\n']) {
    assert.equal(parse(bad).end, HEAD_INVALID, JSON.stringify(bad));
  }
  const many = parse('GET / HTTP/1.1\r\n' + 'X: 1\r\n'.repeat(10) + 'Host: late\r\n\r\n', false, 5);
  assert.deepEqual([many.head.degraded, many.head.host], [true, undefined]);
});

test('resynchronisation probes', () => {
  const b = (s: string) => Buffer.from(s, 'latin1');
  assert.equal(looksLikeRequestStart(b('GET /'), 0, 5), true);
  assert.equal(looksLikeRequestStart(b('FETCH /'), 0, 7), false, 'only known methods at an event boundary');
  assert.equal(looksLikeRequestStart(b('GETX /'), 0, 6), false);
  assert.equal(looksLikeResponseStart(b('HTTP/1.1 200 OK'), 0, 15), true);
  assert.equal(looksLikeResponseStart(b('HTTP/1.1 20'), 0, 11), false);
});
