import { describe, expect, it } from 'vitest';
import {
  HandshakeError,
  HeadParser,
  buildAcceptResponse,
  buildErrorResponse,
  buildHandshakeErrorResponse,
  computeAccept,
  selectProtocol,
  validateUpgradeRequest,
  type UpgradeRequestLike,
} from '../../src/handshake/index.js';
import { RFC_REQUEST, b, handshakeError } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

function request(headers: Record<string, string | undefined>, extra: Partial<UpgradeRequestLike> = {}): UpgradeRequestLike {
  const base: Record<string, string> = {
    host: 'server.example.com',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': KEY,
    'sec-websocket-version': '13',
  };
  for (const [k, v] of Object.entries(headers)) {
    if (v === undefined) delete base[k];
    else base[k] = v;
  }
  return { method: 'GET', url: '/chat', httpVersion: '1.1', headers: base, ...extra };
}

describe('validateUpgradeRequest', () => {
  it('accepts the RFC 6455 §1.2 request straight from the parser', () => {
    const parsed = new HeadParser('request').push(b(RFC_REQUEST))!;
    expect(validateUpgradeRequest(parsed, { path: '/chat' })).toEqual({
      key: KEY,
      version: 13,
      protocols: ['chat', 'superchat'],
      extensions: [],
      origin: 'http://example.com',
    });
  });

  it('omits origin when absent and parses extension offers', () => {
    const v = validateUpgradeRequest(request({ 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' }));
    expect(v).not.toHaveProperty('origin');
    expect(v.extensions).toEqual([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]);
    expect(v.protocols).toEqual([]);
  });

  it('matches Upgrade and Connection as case-insensitive tokens in lists', () => {
    expect(() => validateUpgradeRequest(request({ upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' }))).not.toThrow();
    expect(() => validateUpgradeRequest(request({ upgrade: 'h2c, websocket', connection: ',upgrade,' }))).not.toThrow();
  });

  it('takes Node-style array header values', () => {
    const req = request({});
    expect(() => validateUpgradeRequest({ ...req, headers: { ...req.headers, connection: ['keep-alive', 'Upgrade'] } })).not.toThrow();
  });

  it('works without httpVersion or url when no path is required', () => {
    expect(validateUpgradeRequest({ method: 'GET', headers: request({}).headers }).key).toBe(KEY);
  });

  it('checks the path, ignoring the query, in origin and absolute form', () => {
    expect(() => validateUpgradeRequest(request({}, { url: '/chat?x=1' }), { path: '/chat' })).not.toThrow();
    expect(() => validateUpgradeRequest(request({}, { url: 'http://h/chat?x' }), { path: '/chat' })).not.toThrow();
    expect(handshakeError(() => validateUpgradeRequest(request({}, { url: '/chat/' }), { path: '/chat' })).status).toBe(400);
    expect(handshakeError(() => validateUpgradeRequest(request({}, { url: '/other' }), { path: '/chat' })).status).toBe(400);
    expect(handshakeError(() => validateUpgradeRequest({ method: 'GET', headers: {} }, { path: '/chat' })).status).toBe(400);
  });

  it.each(['POST', 'get', 'HEAD', 'CONNECT'])('rejects method %s with 405 and Allow: GET', (method) => {
    const err = handshakeError(() => validateUpgradeRequest(request({}, { method })));
    expect(err.status).toBe(405);
    expect(err.headers).toEqual({ Allow: 'GET' });
  });

  it.each(['0.9', '2.0', 'x'])('rejects HTTP version %s with 505', (httpVersion) => {
    expect(handshakeError(() => validateUpgradeRequest(request({}, { httpVersion }))).status).toBe(505);
  });

  it('rejects HTTP/1.0 with 400', () => {
    expect(handshakeError(() => validateUpgradeRequest(request({}, { httpVersion: '1.0' }))).status).toBe(400);
  });

  it.each<[string, Record<string, string | undefined>, RegExp]>([
    ['missing Upgrade', { upgrade: undefined }, /Upgrade/],
    ['Upgrade: h2c', { upgrade: 'h2c' }, /Upgrade/],
    ['Upgrade: websocket/13', { upgrade: 'websocket/13' }, /Upgrade/],
    ['malformed Upgrade', { upgrade: 'web socket' }, /Upgrade/],
    ['missing Connection', { connection: undefined }, /Connection/],
    ['Connection without upgrade', { connection: 'keep-alive' }, /Connection/],
    ['Connection: upgraded', { connection: 'upgraded' }, /Connection/],
    ['malformed Connection', { connection: 'upgrade;' }, /Connection/],
    ['Transfer-Encoding', { 'transfer-encoding': 'chunked' }, /body/],
    ['Content-Length: 5', { 'content-length': '5' }, /body/],
    ['repeated Content-Length', { 'content-length': '0, 0' }, /body/],
    ['missing Host', { host: undefined }, /Host/],
    ['empty Host', { host: '' }, /Host/],
    ['repeated Host', { host: 'a.example, b.example' }, /Host/],
    ['missing key', { 'sec-websocket-key': undefined }, /Sec-WebSocket-Key/],
    ['short key', { 'sec-websocket-key': 'AAAA' }, /Sec-WebSocket-Key/],
    ['non-base64 key', { 'sec-websocket-key': '!!!!!!!!!!!!!!!!!!!!!!==' }, /Sec-WebSocket-Key/],
    ['duplicate key', { 'sec-websocket-key': `${KEY}, ${KEY}` }, /Sec-WebSocket-Key/],
    ['20-byte key', { 'sec-websocket-key': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' }, /Sec-WebSocket-Key/],
    ['malformed protocol', { 'sec-websocket-protocol': 'chat; v=1' }, /Sec-WebSocket-Protocol/],
    ['empty protocol', { 'sec-websocket-protocol': '' }, /Sec-WebSocket-Protocol/],
    ['duplicate protocol', { 'sec-websocket-protocol': 'chat, chat' }, /Sec-WebSocket-Protocol/],
    ['malformed extensions', { 'sec-websocket-extensions': 'permessage-deflate; =1' }, /Sec-WebSocket-Extensions/],
    ['empty extensions', { 'sec-websocket-extensions': ' , ' }, /Sec-WebSocket-Extensions/],
  ])('rejects %s with 400', (_name, headers, message) => {
    const err = handshakeError(() => validateUpgradeRequest(request(headers)));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
  });

  it.each([undefined, '8', '12', '14', '13, 13', ' 13', '013'])('rejects version %j with 426 and Sec-WebSocket-Version: 13', (v) => {
    const err = handshakeError(() => validateUpgradeRequest(request({ 'sec-websocket-version': v })));
    expect(err.status).toBe(426);
    expect(err.headers).toEqual({ 'Sec-WebSocket-Version': '13' });
  });

  it('allows Content-Length: 0', () => {
    expect(validateUpgradeRequest(request({ 'content-length': '0' })).key).toBe(KEY);
  });

  it('handles a megabyte extension offer from a parser with raised limits (outcome only)', () => {
    const head = RFC_REQUEST.replace('\r\n\r\n', `\r\nSec-WebSocket-Extensions: a${';a'.repeat(500_000)}\r\n\r\n`);
    const parsed = new HeadParser('request', { maxHeaderBytes: 2 << 20 }).push(b(head))!;
    expect(validateUpgradeRequest(parsed).extensions[0]!.params).toHaveLength(500_000);
    const quoted = RFC_REQUEST.replace('\r\n\r\n', `\r\nSec-WebSocket-Extensions: a;b=${'"\\"'.repeat(300_000)}\r\n\r\n`);
    const parsedQuoted = new HeadParser('request', { maxHeaderBytes: 2 << 20 }).push(b(quoted))!;
    expect(handshakeError(() => validateUpgradeRequest(parsedQuoted)).status).toBe(400);
  });

  it('catches a duplicated key sent as two header lines', () => {
    const parsed = new HeadParser('request').push(b(RFC_REQUEST.replace('\r\n\r\n', `\r\nSec-WebSocket-Key: ${KEY}\r\n\r\n`)))!;
    expect(handshakeError(() => validateUpgradeRequest(parsed)).status).toBe(400);
  });
});

describe('selectProtocol', () => {
  it('prefers the server order with a list', () => {
    expect(selectProtocol(['a', 'b', 'c'], ['c', 'b'])).toBe('c');
    expect(selectProtocol(['a'], ['z'])).toBe(false);
    expect(selectProtocol([], ['a'])).toBe(false);
  });

  it('passes the offered set and request to a callback and checks its answer', () => {
    const req = { id: 1 };
    expect(
      selectProtocol(['a', 'b'], (offered, r) => {
        expect([...offered]).toEqual(['a', 'b']);
        expect(r).toBe(req);
        return 'b';
      }, req),
    ).toBe('b');
    expect(selectProtocol(['a'], () => false)).toBe(false);
    expect(() => selectProtocol(['a'], () => 'z')).toThrow(/not offered/);
  });
});

describe('buildAcceptResponse', () => {
  it('produces the RFC 6455 §1.2 response', () => {
    expect(buildAcceptResponse({ key: KEY, protocol: 'chat' }).toString('latin1')).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Protocol: chat\r\n' +
        '\r\n',
    );
  });

  it('adds extensions and extra headers (object, repeated, or raw lines) and parses back', () => {
    const withObject = buildAcceptResponse({
      key: KEY,
      extensions: 'permessage-deflate; server_max_window_bits=10',
      headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Num': 5 },
    });
    const parsed = new HeadParser('response').push(withObject)!;
    expect(parsed.statusCode).toBe(101);
    expect(parsed.headers['sec-websocket-accept']).toBe(computeAccept(KEY));
    expect(parsed.headers['sec-websocket-extensions']).toBe('permessage-deflate; server_max_window_bits=10');
    expect(parsed.headers['sec-websocket-protocol']).toBeUndefined();
    expect(parsed.rawHeaders.slice(-6)).toEqual(['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Num', '5']);

    const withLines = new HeadParser('response').push(buildAcceptResponse({ key: KEY, headers: ['X-A:  1 ', 'X-B:2'] }))!;
    expect(withLines.rawHeaders.slice(-4)).toEqual(['X-A', '1', 'X-B', '2']);
  });

  it('treats an empty protocol or extensions as none', () => {
    const s = buildAcceptResponse({ key: KEY, protocol: '', extensions: '' }).toString('latin1');
    expect(s).not.toMatch(/Sec-WebSocket-(Protocol|Extensions)/);
  });

  it.each<[string, Parameters<typeof buildAcceptResponse>[0]]>([
    ['CRLF in protocol', { key: KEY, protocol: 'chat\r\nX-Evil: 1' }],
    ['non-token protocol', { key: KEY, protocol: 'a b' }],
    ['CRLF in extensions', { key: KEY, extensions: 'x\r\nX-Evil: 1' }],
    ['malformed extensions', { key: KEY, extensions: 'x; =' }],
    ['LF in header value', { key: KEY, headers: { 'X-A': 'a\nX-Evil: 1' } }],
    ['CR in header value', { key: KEY, headers: { 'X-A': 'a\r' } }],
    ['NUL in header value', { key: KEY, headers: { 'X-A': 'a\u0000' } }],
    ['U+010A folding to LF in latin1', { key: KEY, headers: { 'X-A': 'a\u010aX-Evil: 1' } }],
    ['CRLF in array value', { key: KEY, headers: { 'X-A': ['ok', 'a\r\nX-Evil: 1'] } }],
    ['CRLF in header name', { key: KEY, headers: { 'X-A\r\nX-Evil': '1' } }],
    ['space in header name', { key: KEY, headers: { 'X A': '1' } }],
    ['empty header name', { key: KEY, headers: { '': '1' } }],
    ['CRLF in raw line', { key: KEY, headers: ['X-A: 1\r\nX-Evil: 1'] }],
    ['raw line without colon', { key: KEY, headers: ['X-A'] }],
    ['raw line with bad name', { key: KEY, headers: ['X A: 1'] }],
    ['override of Sec-WebSocket-Accept', { key: KEY, headers: { 'sec-websocket-accept': 'x' } }],
    ['override of Upgrade in a raw line', { key: KEY, headers: ['Upgrade: h2c'] }],
    ['Connection override', { key: KEY, headers: { Connection: 'close' } }],
  ])('throws a TypeError for %s', (_name, opts) => {
    expect(() => buildAcceptResponse(opts)).toThrow(TypeError);
  });
});

describe('buildErrorResponse', () => {
  function parse(buf: Buffer) {
    const r = new HeadParser('response').push(buf)!;
    return { ...r, body: r.rest.toString('utf8') };
  }

  it('builds a complete closing response with the reason phrase as body', () => {
    const r = parse(buildErrorResponse(400));
    expect([r.statusCode, r.statusMessage, r.body]).toEqual([400, 'Bad Request', 'Bad Request']);
    expect({ ...r.headers }).toEqual({
      connection: 'close',
      'content-type': 'text/plain; charset=utf-8',
      'content-length': String(Buffer.byteLength('Bad Request')),
    });
  });

  it('uses the message as body with a UTF-8 byte length, plus extra headers', () => {
    const r = parse(buildErrorResponse(426, { message: 'nö ✓', headers: { 'Sec-WebSocket-Version': '13' } }));
    expect(r.statusMessage).toBe('Upgrade Required');
    expect(r.body).toBe('nö ✓');
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength('nö ✓')));
    expect(r.headers['sec-websocket-version']).toBe('13');
  });

  it('lets Content-Type be replaced but not framing headers', () => {
    const r = parse(buildErrorResponse(403, { headers: { 'Content-Type': 'application/json' }, message: '{}' }));
    expect(r.headers['content-type']).toBe('application/json');
    for (const name of ['Content-Length', 'connection', 'Transfer-Encoding']) {
      expect(() => buildErrorResponse(403, { headers: { [name]: '1' } })).toThrow(TypeError);
    }
  });

  it('a body full of CRLFs stays a body', () => {
    const message = 'x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n';
    const r = parse(buildErrorResponse(400, { message }));
    expect(r.body).toBe(message);
    expect(r.headers['content-length']).toBe(String(message.length));
  });

  it('answers a HandshakeError with its status, message and headers', () => {
    const err = handshakeError(() => validateUpgradeRequest(request({}, { method: 'POST' })));
    const r = parse(buildHandshakeErrorResponse(err));
    expect(r.statusCode).toBe(405);
    expect(r.headers['allow']).toBe('GET');
    expect(r.body).toBe(err.message);
  });

  it('names unknown statuses and rejects impossible ones', () => {
    expect(parse(buildErrorResponse(499)).statusMessage).toBe('Unknown');
    for (const s of [0, 99, 600, 400.5, Number.NaN]) expect(() => buildErrorResponse(s)).toThrow(RangeError);
    expect(() => buildErrorResponse(400, { headers: { 'X-A': 'a\r\nb' } })).toThrow(TypeError);
  });

  it('is what HandshakeError statuses map to', () => {
    expect(new HandshakeError(431, 'x').status).toBe(431);
    expect(parse(buildErrorResponse(431)).statusMessage).toBe('Request Header Fields Too Large');
  });
});
