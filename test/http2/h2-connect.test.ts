import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  buildConnectRequest,
  checkConnectRequest,
  checkConnectStatus,
  computeAccept,
  connectAcceptLines,
  connectRefusal,
  connectResponseHeaders,
  generateKey,
  isWebSocketConnect,
  validateNegotiation,
} from '../../src/handshake/index.js';

const GOOD = {
  ':method': 'CONNECT',
  ':protocol': 'websocket',
  ':scheme': 'https',
  ':path': '/chat?room=1',
  ':authority': 'example.com:8443',
  'sec-websocket-version': '13',
};

function refusal(headers: Record<string, string | undefined>): HandshakeError {
  try {
    checkConnectRequest(headers);
  } catch (err) {
    expect(err).toBeInstanceOf(HandshakeError);
    return err as HandshakeError;
  }
  throw new Error('accepted');
}

describe('checkConnectRequest (RFC 8441 § 4-5)', () => {
  it('accepts a well-formed extended CONNECT and needs no Sec-WebSocket-Key', () => {
    expect(checkConnectRequest(GOOD)).toBeUndefined();
    expect(isWebSocketConnect(GOOD)).toBe(true);
    expect(checkConnectRequest({ ...GOOD, ':protocol': 'WebSocket', ':scheme': 'http' })).toBeUndefined();
  });

  it('returns a valid key a client sent anyway (undici), ignores an invalid one', () => {
    const key = generateKey();
    expect(checkConnectRequest({ ...GOOD, 'sec-websocket-key': key })).toBe(key);
    expect(checkConnectRequest({ ...GOOD, 'sec-websocket-key': 'not-a-key' })).toBeUndefined();
  });

  it('refuses with the right status, in order', () => {
    const e405 = refusal({ ...GOOD, ':method': 'GET' });
    expect([e405.status, e405.headers]).toEqual([405, { allow: 'CONNECT' }]);
    expect(refusal({ ...GOOD, ':protocol': 'connect-udp' }).status).toBe(400);
    expect(refusal({ ...GOOD, ':protocol': undefined }).message).toMatch(/:protocol/);
    expect(refusal({ ...GOOD, ':scheme': undefined }).message).toMatch(/:scheme/);
    expect(refusal({ ...GOOD, ':scheme': 'ftp' }).message).toMatch(/:scheme/);
    expect(refusal({ ...GOOD, ':path': undefined }).message).toMatch(/:path/);
    expect(refusal({ ...GOOD, ':path': '*' }).message).toMatch(/:path/);
    expect(refusal({ ...GOOD, ':authority': '' }).message).toMatch(/:authority/);
    expect(refusal({ ...GOOD, ':authority': 'a.com, b.com' }).message).toMatch(/:authority/);
    for (const v of [undefined, '8', '12', '13, 13']) {
      const e = refusal({ ...GOOD, 'sec-websocket-version': v });
      expect([e.status, e.headers]).toEqual([400, { 'sec-websocket-version': '13' }]);
    }
    // The method is looked at first.
    expect(refusal({ ':method': 'POST' }).status).toBe(405);
  });

  it('tells WebSocket streams from the application\'s', () => {
    expect(isWebSocketConnect({ ...GOOD, ':protocol': undefined })).toBe(false);
    expect(isWebSocketConnect({ ...GOOD, ':method': 'GET' })).toBe(false);
    expect(isWebSocketConnect({ ...GOOD, ':protocol': 'webtransport' })).toBe(false);
  });
});

describe('the answers', () => {
  it('accept lines become HTTP/2 headers (the accept only for a tolerated key)', () => {
    expect(connectResponseHeaders(connectAcceptLines('', ''))).toEqual({ ':status': 200 });
    const key = generateKey();
    const lines = connectAcceptLines('chat', 'permessage-deflate; server_no_context_takeover', key);
    expect(lines[0]).toBe('HTTP/2 200');
    expect(connectResponseHeaders([...lines, 'Set-Cookie: a=1', 'Connection: close', 'X-Extra:  v '])).toEqual({
      ':status': 200,
      'sec-websocket-accept': computeAccept(key),
      'sec-websocket-protocol': 'chat',
      'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover',
      'set-cookie': 'a=1',
      'x-extra': 'v',
    });
  });

  it('a listener line that could inject or is not a header is a TypeError', () => {
    for (const bad of ['X-A: b\r\nX-B: c', 'no colon', ': empty name', 42, 'X A: b']) {
      expect(() => connectResponseHeaders(['HTTP/2 200', bad])).toThrow(TypeError);
    }
  });

  it('refusals carry status, exact length, safe extra headers only', () => {
    expect(connectRefusal(403, 'Origin not allowed')).toEqual({
      headers: { ':status': 403, 'content-type': 'text/html', 'content-length': 18 },
      body: 'Origin not allowed',
    });
    const r = connectRefusal(99, undefined, { 'WWW-Authenticate': 'Basic', Connection: 'close', 'bad name': 'x', 'X-Evil': 'a\r\nb', 'Content-Length': 1 });
    expect(r).toEqual({
      headers: { ':status': 500, 'content-type': 'text/html', 'content-length': 21, 'www-authenticate': 'Basic' },
      body: 'Internal Server Error',
    });
  });

  it('client status check: 2xx opens, anything else carries the status', () => {
    expect(() => checkConnectStatus(200)).not.toThrow();
    for (const s of [101, 301, 400, 405, 501]) {
      let err: unknown;
      try {
        checkConnectStatus(s);
      } catch (e) {
        err = e;
      }
      expect((err as HandshakeError).status).toBe(s);
      expect((err as Error).message).toBe(`Unexpected server response: ${s}`);
    }
  });

  it('negotiation is checked as over HTTP/1.1', () => {
    const expectOffer = { protocols: ['a', 'b'], extensionsOffered: ['permessage-deflate'] };
    expect(validateNegotiation({ 'sec-websocket-protocol': 'b' }, expectOffer).protocol).toBe('b');
    expect(() => validateNegotiation({ 'sec-websocket-protocol': 'c' }, expectOffer)).toThrow(/invalid subprotocol/);
    expect(() => validateNegotiation({ 'sec-websocket-extensions': 'x-foo' }, expectOffer)).toThrow(/not offered/);
    expect(() => validateNegotiation({ 'sec-websocket-extensions': 'permessage-deflate, permessage-deflate' }, expectOffer)).toThrow(/more than once/);
  });
});

describe('buildConnectRequest', () => {
  it('builds the pseudo-headers and the offer, lower-cased, no key', () => {
    expect(
      buildConnectRequest({ scheme: 'https', authority: 'h:1', path: '/p?q', protocols: ['a', 'b'], extensions: 'permessage-deflate', origin: 'https://o', headers: { 'X-Token': 't', Cookie: ['a=1', 'b=2'] } }),
    ).toEqual({
      ':method': 'CONNECT',
      ':protocol': 'websocket',
      ':scheme': 'https',
      ':authority': 'h:1',
      ':path': '/p?q',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'a, b',
      'sec-websocket-extensions': 'permessage-deflate',
      origin: 'https://o',
      'x-token': 't',
      cookie: 'a=1; b=2',
    });
  });

  it('a Host header becomes the :authority', () => {
    expect(buildConnectRequest({ scheme: 'http', authority: 'h', path: '/', headers: { Host: 'virtual.example' } })[':authority']).toBe('virtual.example');
  });

  it('refuses what cannot be sent, before producing anything', () => {
    const base = { scheme: 'https' as const, authority: 'h', path: '/' };
    expect(() => buildConnectRequest({ ...base, path: 'nope' })).toThrow(TypeError);
    expect(() => buildConnectRequest({ ...base, authority: 'a b' })).toThrow(TypeError);
    expect(() => buildConnectRequest({ ...base, headers: { Connection: 'keep-alive' } })).toThrow(/connection-specific/);
    expect(() => buildConnectRequest({ ...base, headers: { 'Sec-WebSocket-Key': 'x' } })).toThrow(/set by the handshake/);
    expect(() => buildConnectRequest({ ...base, headers: { 'X-A': 'a\nb' } })).toThrow(TypeError);
    expect(() => buildConnectRequest({ ...base, headers: { ':path': '/x' } })).toThrow(TypeError);
    expect(() => buildConnectRequest({ ...base, origin: 'o\r\n' })).toThrow(TypeError);
  });

  it('property: whatever it builds, the server-side checks accept', () => {
    const token = fc.stringMatching(/^[a-z][a-z0-9-]{0,8}$/);
    fc.assert(
      fc.property(
        fc.constantFrom('http' as const, 'https' as const),
        fc.stringMatching(/^[a-z0-9.-]{1,20}(:[0-9]{1,5})?$/),
        fc.stringMatching(/^\/[A-Za-z0-9/?=&%._-]{0,30}$/),
        fc.uniqueArray(token, { maxLength: 4 }),
        (scheme, authority, path, protocols) => {
          const headers = buildConnectRequest({ scheme, authority, path, protocols });
          const table = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)]));
          expect(isWebSocketConnect(table)).toBe(true);
          expect(checkConnectRequest(table)).toBeUndefined();
        },
      ),
    );
  });
});
