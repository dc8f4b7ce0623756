import { describe, expect, it } from 'vitest';
import { HeadParser, checkUpgradeRequest, headerTable, type RequestLine } from '../../src/handshake/index.js';
import { RFC_REQUEST, b, handshakeError } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A valid upgrade request's header table with `changes` applied (undefined removes a header). */
function headers(changes: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string> = {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
  };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return base;
}

const GET: RequestLine = { method: 'GET', httpVersion: '1.1' };
const check = (changes: Record<string, string | undefined>, line: RequestLine = GET): string => checkUpgradeRequest(line, headers(changes));

describe('checkUpgradeRequest (HTTP/1.1, RFC 6455 §4.2.1 in ws 8’s order)', () => {
  it('accepts the RFC 6455 §1.2 request straight from the parser and returns its key', () => {
    const parsed = new HeadParser('request').push(b(RFC_REQUEST))!;
    expect(checkUpgradeRequest(parsed, parsed.headers)).toBe(KEY);
    expect(checkUpgradeRequest(parsed, headerTable(parsed))).toBe(KEY);
  });

  it('matches Upgrade case-insensitively and Connection as a token in a list', () => {
    expect(check({ upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' })).toBe(KEY);
    expect(check({ connection: ',upgrade,' })).toBe(KEY);
  });

  it('takes the HTTP version as checked when the request line does not carry one', () => {
    expect(check({}, { method: 'GET' })).toBe(KEY);
  });

  it.each(['POST', 'get', 'HEAD', 'CONNECT', undefined])('refuses method %s with 405, Allow: GET', (method) => {
    const err = handshakeError(() => check({}, { method }));
    expect([err.status, err.message, err.headers]).toEqual([405, 'Invalid HTTP method', { Allow: 'GET' }]);
  });

  // ws compares the whole value with 'websocket': lists and versions are not an upgrade to it.
  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['h2c', 'h2c'],
    ['a list', 'h2c, websocket'],
    ['with a version', 'websocket/13'],
  ])('refuses an Upgrade header that is %s with 400', (_name, upgrade) => {
    const err = handshakeError(() => check({ upgrade }));
    expect([err.status, err.message]).toEqual([400, 'Invalid Upgrade header']);
  });

  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['short', 'AAAA'],
    ['not base64', '!!!!!!!!!!!!!!!!!!!!!!=='],
    ['15 bytes', Buffer.alloc(15).toString('base64')],
    ['20 bytes', 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='],
    ['non-canonical (pad bits set)', 'dGhlIHNhbXBsZSBub25jZR=='],
    ['repeated (joined)', `${KEY}, ${KEY}`],
  ])('refuses a Sec-WebSocket-Key that is %s with 400', (_name, key) => {
    const err = handshakeError(() => check({ 'sec-websocket-key': key }));
    expect([err.status, err.message]).toEqual([400, 'Missing or invalid Sec-WebSocket-Key header']);
  });

  it('catches a key sent twice as two header lines', () => {
    const parsed = new HeadParser('request').push(b(RFC_REQUEST.replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`)))!;
    expect(handshakeError(() => checkUpgradeRequest(parsed, parsed.headers)).status).toBe(400);
  });

  it('refuses version 8 with 426 (sockwire speaks only 13; ws would accept 8)', () => {
    const err = handshakeError(() => check({ 'sec-websocket-version': '8' }));
    expect(err.status).toBe(426);
    expect(err.message).toMatch(/version 8/);
    expect(err.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });

  it.each([undefined, '12', '14', '13, 13', ' 13', '013', ''])('refuses version %j with 400 and Sec-WebSocket-Version: 13', (version) => {
    const err = handshakeError(() => check({ 'sec-websocket-version': version }));
    expect([err.status, err.message, err.headers]).toEqual([400, 'Missing or invalid Sec-WebSocket-Version header', { 'Sec-WebSocket-Version': '13' }]);
  });

  it.each(['0.9', '2.0', 'x', '1'])('refuses HTTP version %s with 505', (httpVersion) => {
    expect(handshakeError(() => check({}, { method: 'GET', httpVersion })).status).toBe(505);
  });

  it('refuses HTTP/1.0 with 400: the upgrade mechanism needs 1.1', () => {
    const err = handshakeError(() => check({}, { method: 'GET', httpVersion: '1.0' }));
    expect([err.status, err.message]).toEqual([400, 'A WebSocket upgrade requires HTTP/1.1']);
  });

  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['without the upgrade token', 'keep-alive'],
    ['with a longer token', 'upgraded'],
    ['malformed', 'upgrade;'],
  ])('refuses a Connection header %s with 400', (_name, connection) => {
    const err = handshakeError(() => check({ connection }));
    expect([err.status, err.message]).toEqual([400, 'Invalid Connection header']);
  });

  it.each<[string, string | undefined]>([
    ['missing', undefined],
    ['empty', ''],
    ['repeated (joined)', 'a.example, b.example'],
    ['holding a tab', 'a.example\t'],
    ['holding a control character', 'a\u0001.example'],
    ['holding a non-ASCII character', 'é.example'],
  ])('refuses a Host that is %s with 400', (_name, host) => {
    const err = handshakeError(() => check({ host }));
    expect([err.status, err.message]).toEqual([400, 'Missing, repeated or invalid Host header']);
  });

  it.each<[string, Record<string, string>]>([
    ['Transfer-Encoding', { 'transfer-encoding': 'chunked' }],
    ['Content-Length: 5', { 'content-length': '5' }],
    ['a repeated Content-Length', { 'content-length': '0, 0' }],
  ])('refuses a request body (%s) with 400: it would be read as frames', (_name, changes) => {
    const err = handshakeError(() => check(changes));
    expect([err.status, err.message]).toEqual([400, 'A WebSocket upgrade request must not have a body']);
  });

  it('allows Content-Length: 0', () => {
    expect(check({ 'content-length': '0' })).toBe(KEY);
  });

  it('checks in ws’s order first (method, Upgrade, key, version), then sockwire’s own rules', () => {
    const bad = { upgrade: 'h2c', 'sec-websocket-key': undefined, 'sec-websocket-version': '8', host: undefined, connection: undefined };
    const order: Array<[RequestLine, Record<string, string | undefined>, number, RegExp]> = [
      [{ method: 'POST', httpVersion: '2.0' }, bad, 405, /method/],
      [{ method: 'GET', httpVersion: '2.0' }, bad, 400, /Upgrade/],
      [{ method: 'GET', httpVersion: '2.0' }, { ...bad, upgrade: 'websocket' }, 400, /Key/],
      [{ method: 'GET', httpVersion: '2.0' }, { ...bad, upgrade: 'websocket', 'sec-websocket-key': KEY }, 426, /version 8/],
      [{ method: 'GET', httpVersion: '2.0' }, { ...bad, upgrade: 'websocket', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' }, 505, /HTTP/],
      [GET, { host: undefined, connection: undefined, 'content-length': '1' }, 400, /Connection/],
      [GET, { host: undefined, 'content-length': '1' }, 400, /Host/],
      [GET, { 'content-length': '1' }, 400, /body/],
    ];
    for (const [line, changes, status, message] of order) {
      const err = handshakeError(() => check(changes, line));
      expect([err.status, err.message]).toEqual([status, expect.stringMatching(message)]);
    }
  });
});
