import { describe, expect, it } from 'vitest';
import {
  HeadParser,
  acceptLines,
  buildUpgradeRequest,
  checkUpgradeRequest,
  computeAccept,
  generateKey,
  parseOffer,
  serializeResponse,
  validateUpgradeResponse,
  type ParsedResponse,
  type UpgradeRequestOptions,
} from '../../src/handshake/index.js';
import { RFC_REQUEST, RFC_RESPONSE, b, handshakeError } from './helpers.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

describe('buildUpgradeRequest', () => {
  it('produces the RFC 6455 §1.2 request (header order: handshake headers first)', () => {
    const buf = buildUpgradeRequest({
      host: 'server.example.com',
      path: '/chat',
      key: KEY,
      protocols: ['chat', 'superchat'],
      origin: 'http://example.com',
    });
    expect(buf.toString('latin1')).toBe(
      'GET /chat HTTP/1.1\r\n' +
        'Host: server.example.com\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        `Sec-WebSocket-Key: ${KEY}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        'Sec-WebSocket-Protocol: chat, superchat\r\n' +
        'Origin: http://example.com\r\n' +
        '\r\n',
    );
    // Same headers as the RFC sample, modulo order.
    const ours = new HeadParser('request').push(buf)!;
    const rfc = new HeadParser('request').push(b(RFC_REQUEST))!;
    expect({ ...ours.headers }).toEqual({ ...rfc.headers });
  });

  it('passes the server’s checks, with extensions and extra headers', () => {
    const key = generateKey();
    const buf = buildUpgradeRequest({
      host: '[::1]:8080',
      path: '/a/b?c=d%20e',
      key,
      extensions: 'permessage-deflate; client_max_window_bits',
      headers: { Authorization: 'Bearer x', 'X-Multi': ['1', '2'] },
    });
    const parsed = new HeadParser('request').push(buf)!;
    expect(parsed.url).toBe('/a/b?c=d%20e');
    expect(parsed.headers['host']).toBe('[::1]:8080');
    expect(parsed.headers['x-multi']).toBe('1, 2');
    expect(checkUpgradeRequest(parsed, parsed.headers)).toBe(key);
    expect(parseOffer(parsed.headers, true).extensions![0]!.name).toBe('permessage-deflate');
  });

  it('lets a Host header replace the host option', () => {
    const parsed = new HeadParser('request').push(buildUpgradeRequest({ host: 'a', path: '/', key: KEY, headers: { host: 'b.example' } }))!;
    expect(parsed.rawHeaders.filter((_, i) => i % 2 === 0 && parsed.rawHeaders[i]!.toLowerCase() === 'host')).toHaveLength(1);
    expect(parsed.headers['host']).toBe('b.example');
  });

  const base: UpgradeRequestOptions = { host: 'h', path: '/', key: KEY };
  it.each<[string, Partial<UpgradeRequestOptions>]>([
    ['CRLF in path', { path: '/\r\nX-Evil: 1' }],
    ['space in path', { path: '/a b' }],
    ['non-ASCII path', { path: '/caf\u00e9' }],
    ['relative path', { path: 'chat' }],
    ['empty path', { path: '' }],
    ['CRLF in host', { host: 'h\r\nX-Evil: 1' }],
    ['userinfo in host', { host: 'user@h' }],
    ['path in host', { host: 'h/x' }],
    ['empty host', { host: '' }],
    ['CRLF in Host header', { headers: { Host: 'h\r\nX: 1' } }],
    ['invalid key', { key: 'abc' }],
    ['CRLF in origin', { origin: 'http://a\r\nX-Evil: 1' }],
    ['U+010A in origin', { origin: 'http://a\u010aX-Evil: 1' }],
    ['CRLF in extensions', { extensions: 'x\r\nX-Evil: 1' }],
    ['malformed extensions', { extensions: 'x;;' }],
    ['CRLF in header value', { headers: { 'X-A': '1\r\nX-Evil: 1' } }],
    ['NUL in header value', { headers: { 'X-A': '1\u0000' } }],
    ['bad header name', { headers: { 'X-A:': '1' } }],
    ['Upgrade override', { headers: { Upgrade: 'h2c' } }],
    ['Sec-WebSocket-Key override', { headers: { 'sec-websocket-key': KEY } }],
    ['Sec-WebSocket-Version override', { headers: { 'Sec-WebSocket-Version': '8' } }],
    ['Origin twice', { origin: 'http://a', headers: { Origin: 'http://b' } }],
  ])('throws a TypeError for %s', (_name, opts) => {
    expect(() => buildUpgradeRequest({ ...base, ...opts })).toThrow(TypeError);
  });

  it.each([[['a', 'a']], [['a b']], [['']], [['chat', 'x,y']], [['caf\u00e9']]])('throws a SyntaxError for protocols %j', (protocols) => {
    expect(() => buildUpgradeRequest({ ...base, protocols })).toThrow(SyntaxError);
  });

  it('treats protocol names case-sensitively for uniqueness', () => {
    expect(buildUpgradeRequest({ ...base, protocols: ['Chat', 'chat'] }).toString()).toContain('Sec-WebSocket-Protocol: Chat, chat\r\n');
  });
});

describe('validateUpgradeResponse', () => {
  const rfc = (): ParsedResponse => new HeadParser('response').push(b(RFC_RESPONSE))!;
  const expectRfc = { key: KEY, protocols: ['chat', 'superchat'], extensionsOffered: [] };

  function response(headers: Record<string, string | undefined>, statusCode = 101): ParsedResponse {
    const h: Record<string, string> = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': computeAccept(KEY) };
    for (const [k, v] of Object.entries(headers)) {
      if (v === undefined) delete h[k];
      else h[k] = v;
    }
    return { httpVersion: '1.1', statusCode, statusMessage: '', headers: h, rawHeaders: [], rest: Buffer.alloc(0) };
  }
  const none = { key: KEY, protocols: [], extensionsOffered: [] };

  it('accepts the RFC 6455 §1.2 response', () => {
    expect(validateUpgradeResponse(rfc(), expectRfc)).toEqual({ protocol: 'chat', extensions: [] });
  });

  it('accepts our own accept response, case-insensitive Upgrade and a Connection list', () => {
    const ours = new HeadParser('response').push(serializeResponse(acceptLines(KEY, '', '')))!;
    expect(validateUpgradeResponse(ours, none)).toEqual({ protocol: '', extensions: [] });
    expect(() => validateUpgradeResponse(response({ upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }), none)).not.toThrow();
  });

  it('accepts no subprotocol even when some were offered (as browsers do)', () => {
    expect(validateUpgradeResponse(response({}), expectRfc).protocol).toBe('');
  });

  it('returns accepted extensions with their params', () => {
    const r = validateUpgradeResponse(response({ 'sec-websocket-extensions': 'permessage-deflate; server_no_context_takeover' }), {
      ...none,
      extensionsOffered: ['permessage-deflate'],
    });
    expect(r.extensions).toEqual([{ name: 'permessage-deflate', params: [['server_no_context_takeover', true]] }]);
  });

  it.each([200, 301, 403, 404, 500])('reports a %i response with that status', (status) => {
    const err = handshakeError(() => validateUpgradeResponse(response({}, status), none));
    expect(err.status).toBe(status);
    expect(err.message).toBe(`Unexpected server response: ${status}`);
  });

  it.each<[string, Record<string, string | undefined>, { protocols?: string[]; extensionsOffered?: string[] }, RegExp]>([
    ['missing Upgrade', { upgrade: undefined }, {}, /Upgrade/],
    ['Upgrade: h2c', { upgrade: 'h2c' }, {}, /Upgrade/],
    ['Upgrade list', { upgrade: 'websocket, h2c' }, {}, /Upgrade/],
    ['missing Connection', { connection: undefined }, {}, /Connection/],
    ['Connection: close', { connection: 'close' }, {}, /Connection/],
    ['malformed Connection', { connection: 'up grade' }, {}, /Connection/],
    ['missing accept', { 'sec-websocket-accept': undefined }, {}, /Missing Sec-WebSocket-Accept/],
    ['wrong accept', { 'sec-websocket-accept': computeAccept(generateKey()) }, {}, /Invalid Sec-WebSocket-Accept/],
    ['accept of the key itself', { 'sec-websocket-accept': KEY }, {}, /Invalid Sec-WebSocket-Accept/],
    ['duplicate accept', { 'sec-websocket-accept': `${computeAccept(KEY)}, ${computeAccept(KEY)}` }, {}, /Sec-WebSocket-Accept/],
    ['protocol not requested', { 'sec-websocket-protocol': 'chat' }, {}, /none was requested/],
    ['protocol not offered', { 'sec-websocket-protocol': 'other' }, { protocols: ['chat'] }, /invalid subprotocol/],
    ['two protocols', { 'sec-websocket-protocol': 'chat, superchat' }, { protocols: ['chat', 'superchat'] }, /invalid subprotocol/],
    ['protocol case differs', { 'sec-websocket-protocol': 'Chat' }, { protocols: ['chat'] }, /invalid subprotocol/],
    ['extension not offered', { 'sec-websocket-extensions': 'x-foo' }, {}, /not offered/],
    ['extension twice', { 'sec-websocket-extensions': 'x, x' }, { extensionsOffered: ['x'] }, /more than once/],
    ['malformed extensions', { 'sec-websocket-extensions': 'x;' }, { extensionsOffered: ['x'] }, /Sec-WebSocket-Extensions/],
    ['empty extensions', { 'sec-websocket-extensions': '' }, { extensionsOffered: ['x'] }, /Empty/],
  ])('fails on %s with status 0', (_name, headers, exp, message) => {
    const err = handshakeError(() => validateUpgradeResponse(response(headers), { ...none, ...exp }));
    expect(err.status).toBe(0);
    expect(err.message).toMatch(message);
  });
});
