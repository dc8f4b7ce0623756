import { describe, expect, it } from 'vitest';
import { HeadParser, acceptLines, computeAccept, refusalResponse, serializeResponse } from '../../src/handshake/index.js';
import { RFC_RESPONSE } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('acceptLines + serializeResponse: the 101', () => {
  it('produce the RFC 6455 §1.2 response', () => {
    expect(serializeResponse(acceptLines(KEY, 'chat', '')).toString('latin1')).toBe(RFC_RESPONSE);
  });

  it('leave out the protocol and extensions lines when none were agreed', () => {
    expect(acceptLines(KEY, '', '')).toEqual([
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${computeAccept(KEY)}`,
    ]);
  });

  it('add the agreed extensions, and the head parses back', () => {
    const lines = acceptLines(KEY, '', 'permessage-deflate; server_max_window_bits=10');
    const parsed = new HeadParser('response').push(serializeResponse(lines))!;
    expect(parsed.statusCode).toBe(101);
    expect(parsed.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(parsed.headers['sec-websocket-extensions']).toBe('permessage-deflate; server_max_window_bits=10');
    expect(parsed.headers['sec-websocket-protocol']).toBeUndefined();
    expect(parsed.rest).toHaveLength(0);
  });

  it('serialize lines a listener added or changed (ws’s headers event), as UTF-8 like ws', () => {
    const lines = acceptLines(KEY, '', '');
    lines.push('Set-Cookie: a=1', 'X-Name: café');
    lines[2] = 'Connection: upgrade';
    const bytes = serializeResponse(lines);
    expect(bytes.toString('utf8')).toBe(`${lines.join('\r\n')}\r\n\r\n`);
    expect(bytes.includes(Buffer.from('café', 'utf8'))).toBe(true);
  });

  it.each<[string, unknown]>([
    ['a CRLF', 'X-A: 1\r\nX-Evil: 1'],
    ['a lone LF', 'X-A: 1\nX-Evil: 1'],
    ['a lone CR', 'X-A: 1\r'],
    ['a NUL', 'X-A: \u0000'],
    ['DEL', 'X-A: \u007f'],
    ['U+010A (folds to LF in latin1)', 'X-A: a\u010aX-Evil: 1'],
    ['a number', 5],
    ['undefined', undefined],
  ])('throw a TypeError, producing nothing, for a line holding %s', (_name, line) => {
    expect(() => serializeResponse([...acceptLines(KEY, '', ''), line])).toThrow(TypeError);
  });
});

describe('refusalResponse: a refused handshake as ws answers it', () => {
  it('is ws’s format: Connection, Content-Type text/html, Content-Length, then the reason phrase as body', () => {
    expect(refusalResponse(400).toString('utf8')).toBe(
      'HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\nBad Request',
    );
  });

  it('sends the message as body with its UTF-8 byte length, and the caller’s headers last', () => {
    const bytes = refusalResponse(426, 'nö ✓', { 'Sec-WebSocket-Version': '13', 'X-Num': 5 });
    expect(bytes.toString('utf8')).toBe(
      'HTTP/1.1 426 Upgrade Required\r\nConnection: close\r\nContent-Type: text/html\r\n' +
        `Content-Length: ${Buffer.byteLength('nö ✓')}\r\nSec-WebSocket-Version: 13\r\nX-Num: 5\r\n\r\nnö ✓`,
    );
  });

  it('lets a same-named header replace a default, in the default’s place', () => {
    const text = refusalResponse(403, '{}', { 'Content-Type': 'application/json' }).toString('utf8');
    expect(text).toBe('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}');
  });

  it('uses the reason phrase for an empty message', () => {
    expect(refusalResponse(401, '').toString('utf8')).toMatch(/\r\n\r\nUnauthorized$/);
  });

  it('keeps a body full of CRLFs a body, with its exact length', () => {
    const message = 'x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n';
    const parsed = new HeadParser('response').push(refusalResponse(400, message))!;
    expect(parsed.statusCode).toBe(400);
    expect(parsed.headers['content-length']).toBe(String(message.length));
    expect(parsed.rest.toString('utf8')).toBe(message);
  });

  it.each([0, 99, 100, 199, 600, 400.5, Number.NaN])('answers 500 for status %s, which cannot be written', (status) => {
    expect(refusalResponse(status).toString('utf8')).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
  });

  it('names a status Node does not know “Unknown”', () => {
    expect(refusalResponse(499).toString('utf8')).toMatch(/^HTTP\/1\.1 499 Unknown\r\n[^]*\r\n\r\nUnknown$/);
  });

  it('leaves out header names and values that could inject a line', () => {
    const text = refusalResponse(401, 'no', { 'X-A': 'a\r\nX-Evil: 1', 'X B': '1', 'X-C\r\nX-Evil': '1', 'X-D': 'a\u010a', 'X-Ok': 'fine' }).toString('utf8');
    expect(text).toBe('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 2\r\nX-Ok: fine\r\n\r\nno');
  });
});
