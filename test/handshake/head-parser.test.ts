import { describe, expect, it } from 'vitest';
import { HandshakeError, HeadParser, type ParsedRequest } from '../../src/handshake/index.js';
import { RFC_REQUEST, RFC_RESPONSE, b, feed, handshakeError } from './helpers.js';

const plain = (r: ParsedRequest | null) => r && { ...r, headers: { ...r.headers }, rest: Buffer.from(r.rest) };

describe('HeadParser: requests', () => {
  it('parses the RFC 6455 §1.2 request like IncomingMessage', () => {
    const r = new HeadParser('request').push(b(RFC_REQUEST));
    expect(r).not.toBeNull();
    expect(r!.method).toBe('GET');
    expect(r!.url).toBe('/chat');
    expect(r!.httpVersion).toBe('1.1');
    expect({ ...r!.headers }).toEqual({
      host: 'server.example.com',
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      origin: 'http://example.com',
      'sec-websocket-protocol': 'chat, superchat',
      'sec-websocket-version': '13',
    });
    expect(r!.rawHeaders.slice(0, 4)).toEqual(['Host', 'server.example.com', 'Upgrade', 'websocket']);
    expect(r!.rawHeaders).toHaveLength(14);
    expect(r!.rest.length).toBe(0);
  });

  it('returns null until the empty line arrives', () => {
    const p = new HeadParser('request');
    expect(p.push(b('GET / HTTP/1.1\r\nHost: a\r\n'))).toBeNull();
    expect(p.complete).toBe(false);
    expect(p.push(b('\r'))).toBeNull();
    const r = p.push(b('\n'));
    expect(r?.headers['host']).toBe('a');
    expect(p.complete).toBe(true);
  });

  it('keeps pipelined bytes after the head as a view of the chunk', () => {
    const chunk = b('GET / HTTP/1.1\r\nHost: a\r\n\r\n\x81\x85abcd\r\n\r\nmore');
    const r = new HeadParser('request').push(chunk)!;
    expect(r.rest).toEqual(b('\x81\x85abcd\r\n\r\nmore'));
    expect(r.rest.buffer).toBe(chunk.buffer);
  });

  it('joins repeated headers with ", " and keeps each in rawHeaders', () => {
    const r = new HeadParser('request').push(b('GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a\r\nSet-Cookie: b\r\n\r\n'))!;
    expect(r.headers['x-a']).toBe('1, 2');
    expect(r.headers['set-cookie']).toBe('a, b');
    expect(r.rawHeaders).toEqual(['X-A', '1', 'x-a', '2', 'Set-Cookie', 'a', 'Set-Cookie', 'b']);
  });

  it('trims OWS around values, keeps inner spaces, allows empty values and obs-text', () => {
    const r = new HeadParser('request').push(b('GET / HTTP/1.1\r\nA: \t x  y \t\r\nB:\r\nC:caf\xe9\r\n\r\n'))!;
    expect(r.headers['a']).toBe('x  y');
    expect(r.headers['b']).toBe('');
    expect(r.headers['c']).toBe('caf\u00e9');
  });

  it('has no prototype to pollute: a "__proto__" header is just a header', () => {
    const r = new HeadParser('request').push(b('GET / HTTP/1.1\r\n__proto__: x\r\nconstructor: y\r\n\r\n'))!;
    expect(r.headers['__proto__']).toBe('x');
    expect(r.headers['constructor']).toBe('y');
    expect(Object.getPrototypeOf(r.headers)).toBeNull();
  });

  it('accepts bare LF line endings (RFC 9112 §2.2) and mixed endings', () => {
    const lf = new HeadParser('request').push(b('GET /x HTTP/1.1\nHost: a\nB: c\n\nrest'))!;
    expect(lf.headers).toEqual(expect.objectContaining({ host: 'a', b: 'c' }));
    expect(lf.rest).toEqual(b('rest'));
    const mixed = new HeadParser('request').push(b('GET /x HTTP/1.1\r\nHost: a\n\r\nrest'))!;
    expect(mixed.headers['host']).toBe('a');
    expect(mixed.rest).toEqual(b('rest'));
  });

  it('skips empty lines before the request line', () => {
    const r = new HeadParser('request').push(b('\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'))!;
    expect(r.method).toBe('GET');
  });

  it('accepts absolute-form targets and any method token (405 is not its job)', () => {
    const r = new HeadParser('request').push(b('POST http://h/p?q=1 HTTP/1.1\r\n\r\n'))!;
    expect([r.method, r.url]).toEqual(['POST', 'http://h/p?q=1']);
  });

  it.each([
    ['no target', 'GET HTTP/1.1\r\n\r\n'],
    ['double space', 'GET  / HTTP/1.1\r\n\r\n'],
    ['trailing space', 'GET / HTTP/1.1 \r\n\r\n'],
    ['lowercase version', 'GET / http/1.1\r\n\r\n'],
    ['long version', 'GET / HTTP/1.11\r\n\r\n'],
    ['non-digit version', 'GET / HTTP/1.x\r\n\r\n'],
    ['bad method', 'G(T / HTTP/1.1\r\n\r\n'],
    ['control char in target', 'GET /\x01 HTTP/1.1\r\n\r\n'],
    ['non-ASCII target', 'GET /\xe9 HTTP/1.1\r\n\r\n'],
    ['tab separator', 'GET\t/ HTTP/1.1\r\n\r\n'],
    ['obs-fold', 'GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n'],
    ['whitespace before first header', 'GET / HTTP/1.1\r\n A: b\r\n\r\n'],
    ['no colon', 'GET / HTTP/1.1\r\nNoColon\r\n\r\n'],
    ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['tab before colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n'],
    ['empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['bad name char', 'GET / HTTP/1.1\r\nA(b: c\r\n\r\n'],
    ['non-ASCII name', 'GET / HTTP/1.1\r\nA\xe9: c\r\n\r\n'],
    ['NUL in value', 'GET / HTTP/1.1\r\nA: b\x00c\r\n\r\n'],
    ['DEL in value', 'GET / HTTP/1.1\r\nA: b\x7fc\r\n\r\n'],
    ['ESC in value', 'GET / HTTP/1.1\r\nA: b\x1bc\r\n\r\n'],
  ])('rejects %s with 400', (_name, head) => {
    const err = handshakeError(() => new HeadParser('request').push(b(head)));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/Malformed HTTP request head/);
  });

  it.each([
    ['in a value', 'GET / HTTP/1.1\r\nA: b\rc\r\n\r\n'],
    ['in the request line', 'GET /\r HTTP/1.1\r\n\r\n'],
    ['before CRLF', 'GET / HTTP/1.1\r\nA: b\r\r\n\r\n'],
    ['as the final line', 'GET / HTTP/1.1\r\nA: b\r\n\r\r\n'],
    ['as a line ending', 'GET / HTTP/1.1\rA: b\r\n\r\n'],
  ])('rejects a bare CR %s with 400 (RFC 9112 §2.2)', (_name, head) => {
    const err = handshakeError(() => new HeadParser('request').push(b(head)));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/bare CR/);
  });

  it.each(['HTTP/2.0', 'HTTP/0.9', 'HTTP/3.1'])('rejects %s with 505', (v) => {
    const err = handshakeError(() => new HeadParser('request').push(b(`GET / ${v}\r\n\r\n`)));
    expect(err.status).toBe(505);
  });

  it('rejects HTTP/1.0 with 400: a version we speak, a request that cannot upgrade', () => {
    const err = handshakeError(() => new HeadParser('request').push(b('GET / HTTP/1.0\r\n\r\n')));
    expect(err.status).toBe(400);
  });

  it('treats HTTP/1.x (x > 1) as a 1.1 request', () => {
    expect(new HeadParser('request').push(b('GET / HTTP/1.2\r\n\r\n'))!.httpVersion).toBe('1.2');
  });

  it('rethrows the same error on every push after a failure', () => {
    const p = new HeadParser('request');
    const first = handshakeError(() => p.push(b('BAD\r\n')));
    expect(handshakeError(() => p.push(b('GET / HTTP/1.1\r\n\r\n')))).toBe(first);
  });

  it('refuses pushes after completion', () => {
    const p = new HeadParser('request');
    p.push(b('GET / HTTP/1.1\r\n\r\n'));
    expect(() => p.push(b('x'))).toThrow(/already complete/);
  });
});

describe('HeadParser: responses', () => {
  it('parses the RFC 6455 §1.2 response', () => {
    const r = new HeadParser('response').push(b(RFC_RESPONSE + '\x81\x02hi'))!;
    expect(r.statusCode).toBe(101);
    expect(r.statusMessage).toBe('Switching Protocols');
    expect(r.httpVersion).toBe('1.1');
    expect(r.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
    expect(r.rest).toEqual(b('\x81\x02hi'));
  });

  it('accepts an empty or missing reason phrase and HTTP/1.0', () => {
    expect(new HeadParser('response').push(b('HTTP/1.1 101 \r\n\r\n'))!.statusMessage).toBe('');
    expect(new HeadParser('response').push(b('HTTP/1.1 101\r\n\r\n'))!.statusCode).toBe(101);
    const old = new HeadParser('response').push(b('HTTP/1.0 403 Forbidden\r\n\r\n'))!;
    expect([old.httpVersion, old.statusCode]).toEqual(['1.0', 403]);
  });

  it.each([
    ['two-digit status', 'HTTP/1.1 10 OK\r\n\r\n'],
    ['four-digit status', 'HTTP/1.1 1010 OK\r\n\r\n'],
    ['status 099', 'HTTP/1.1 099 x\r\n\r\n'],
    ['status 600', 'HTTP/1.1 600 x\r\n\r\n'],
    ['HTTP/2', 'HTTP/2.0 101 x\r\n\r\n'],
    ['no status', 'HTTP/1.1\r\n\r\n'],
    ['garbage', 'SSH-2.0-OpenSSH\r\n\r\n'],
    ['control char in reason', 'HTTP/1.1 101 a\x01b\r\n\r\n'],
    ['bad header', 'HTTP/1.1 101 x\r\nA b\r\n\r\n'],
  ])('rejects %s with status 0 (client side)', (_name, head) => {
    const err = handshakeError(() => new HeadParser('response').push(b(head)));
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/Malformed HTTP response head/);
  });
});

describe('HeadParser: chunking', () => {
  const withRest = b(RFC_REQUEST + '\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58');
  const whole = plain(new HeadParser('request').push(withRest));

  it('gives the same result when fed one byte at a time', () => {
    const p = new HeadParser('request');
    let result: ParsedRequest | null = null;
    let i = 0;
    for (; i < withRest.length && result === null; i++) result = p.push(withRest.subarray(i, i + 1));
    // The head ends on a chunk boundary, so rest is empty; the caller gets the frame bytes next.
    expect(i).toBe(RFC_REQUEST.length);
    expect(plain(result)).toEqual({ ...whole, rest: Buffer.alloc(0) });
  });

  it('gives the same result and rest for every split point (including inside CRLFCRLF)', () => {
    for (let cut = 0; cut <= withRest.length; cut++) {
      const p = new HeadParser('request');
      const first = p.push(withRest.subarray(0, cut));
      if (cut < RFC_REQUEST.length) {
        expect(first).toBeNull();
        expect(plain(p.push(withRest.subarray(cut)))).toEqual(whole);
      } else {
        expect(plain(first)).toEqual({ ...whole, rest: withRest.subarray(RFC_REQUEST.length, cut) });
      }
    }
  });

  it('gives the same result for every three-way split', () => {
    const head = b('GET /a HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\nZ');
    const expected = plain(new HeadParser('request').push(head));
    for (let i = 0; i <= head.length; i++) {
      for (let j = i; j < head.length; j++) {
        const r = feed(new HeadParser('request'), [head.subarray(0, i), head.subarray(i, j), head.subarray(j)]);
        expect(plain(r), `split at ${i}/${j}`).toEqual(expected);
      }
    }
  });

  it('tolerates empty chunks', () => {
    const p = new HeadParser('request');
    expect(p.push(Buffer.alloc(0))).toBeNull();
    expect(p.push(b('GET / HTTP/1.1\r\n\r'))).toBeNull();
    expect(p.push(Buffer.alloc(0))).toBeNull();
    expect(p.push(b('\n'))?.url).toBe('/');
  });
});

describe('HeadParser: limits', () => {
  it('accepts a head of exactly maxHeaderBytes and rejects one byte more with 431', () => {
    const head = b('GET / HTTP/1.1\r\nA: xxxxxxxxxx\r\n\r\n');
    expect(new HeadParser('request', { maxHeaderBytes: head.length }).push(head)).not.toBeNull();
    expect(handshakeError(() => new HeadParser('request', { maxHeaderBytes: head.length - 1 }).push(head)).status).toBe(431);
  });

  it('counts bytes across chunks', () => {
    const p = new HeadParser('request', { maxHeaderBytes: 40 });
    expect(p.push(b('GET / HTTP/1.1\r\nA: 1234567890\r\n'))).toBeNull();
    expect(handshakeError(() => p.push(b('B: 1234567890'))).status).toBe(431);
  });

  it('rejects a 1 MiB header line with 431 from its first chunk, before any terminator', () => {
    const p = new HeadParser('request');
    expect(p.push(b('GET / HTTP/1.1\r\nX-Big: '))).toBeNull();
    const err = handshakeError(() => p.push(Buffer.alloc(1024 * 1024, 0x61)));
    expect(err.status).toBe(431);
    expect(err.message).toMatch(/16384 bytes/);
  });

  it('rejects a long line fed in small pieces as soon as the budget is crossed', () => {
    const p = new HeadParser('request', { maxHeaderBytes: 1000 });
    p.push(b('GET / HTTP/1.1\r\nX: '));
    let pushed = 0;
    const err = handshakeError(() => {
      for (;;) {
        p.push(Buffer.alloc(100, 0x61));
        pushed += 100;
      }
    });
    expect(err.status).toBe(431);
    expect(pushed).toBeLessThan(1000);
  });

  it('rejects 10,000 tiny headers with 431 once the 101st arrives', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `a${i}:b\r\n`).join('');
    const p = new HeadParser('request', { maxHeaderBytes: 1 << 20 });
    const err = handshakeError(() => p.push(b(`GET / HTTP/1.1\r\n${lines}\r\n`)));
    expect(err.status).toBe(431);
    expect(err.message).toMatch(/Too many header fields \(limit 100\)/);
    // Under the default byte limit the same flood fails too (on size or count, whichever first).
    expect(handshakeError(() => new HeadParser('request').push(b(`GET / HTTP/1.1\r\n${lines}\r\n`))).status).toBe(431);
  });

  it('allows exactly maxHeaders headers', () => {
    const lines = Array.from({ length: 5 }, (_, i) => `a${i}:b\r\n`).join('');
    const r = new HeadParser('request', { maxHeaders: 5 }).push(b(`GET / HTTP/1.1\r\n${lines}\r\n`));
    expect(r!.rawHeaders).toHaveLength(10);
    const err = handshakeError(() => new HeadParser('request', { maxHeaders: 4 }).push(b(`GET / HTTP/1.1\r\n${lines}\r\n`)));
    expect(err.status).toBe(431);
  });

  it('reports limits on responses with status 0', () => {
    const err = handshakeError(() => new HeadParser('response', { maxHeaderBytes: 10 }).push(b('HTTP/1.1 101 Switching Protocols\r\n')));
    expect(err).toBeInstanceOf(HandshakeError);
    expect(err.status).toBe(0);
  });

  it('rejects nonsensical limits', () => {
    expect(() => new HeadParser('request', { maxHeaderBytes: 0 })).toThrow(RangeError);
    expect(() => new HeadParser('request', { maxHeaders: -1 })).toThrow(RangeError);
  });
});
