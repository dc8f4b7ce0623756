import fc from 'fast-check';
import { createServer as createHttpServer } from 'node:http';
import { connect as http2Connect } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { HandshakeError, HeadParser } from '../../src/handshake/index.js';
import { RequestLineGuard } from '../../src/handshake/request-line-guard.js';
import { WebSocketServer } from '../../src/index.js';
import { IMPLS, rawExchange, startImpl, waitFor } from '../server/helpers.js';
import { assertServes, failOnUncaught, startServer, type Started } from './helpers.js';

/*
 * Bytes that cannot begin an HTTP/1.1 request line — a TLS ClientHello sent to a ws:// port, an
 * HTTP/2 prior-knowledge preface, binary garbage — are answered 400 and closed at once, as Node's
 * http server (and so ws) answers them. Every server here has a handshake timeout far beyond the
 * test's own deadlines, so a connection that closes in time was closed by the byte check, not by
 * a timer; none asserts timing.
 */

failOnUncaught();

const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';
/** Longer than every deadline below: only an immediate refusal can close a connection in time. */
const PATIENT = { handshakeTimeout: 600_000 };

/** The first bytes of a TLS 1.2/1.3 ClientHello record: handshake (0x16), version 3.1, length, type 1. */
const CLIENT_HELLO_START = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]);
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/** Feeds `line` to a fresh guard in the given pieces; the first refusal, or null. */
function guardVerdict(pieces: Buffer[]): string | null {
  const guard = new RequestLineGuard();
  for (const p of pieces) {
    const why = guard.check(p, 0, p.length);
    if (why !== null) return why;
  }
  return null;
}

/** Splits `buf` at the given points (taken modulo its length). */
function split(buf: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((n) => n % (buf.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, buf.length]) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  return out;
}

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** RFC 9112 §3 request line after optional empty lines, written independently of the guard. */
const REQUEST_LINE = /^(\r?\n)*[!#$%&'*+\-.^_`|~0-9A-Za-z]+ [\x21-\x7e]+ HTTP\/[0-9]\.[0-9]\r?$/;

describe('RequestLineGuard', () => {
  it('never refuses a valid request line, however it is chunked', () => {
    const method = fc.string({ unit: fc.constantFrom(...TCHARS.split('')), minLength: 1, maxLength: 12 });
    const target = fc.string({ unit: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 40 });
    const version = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 })).map(([a, b]) => `HTTP/${a}.${b}`);
    const blanks = fc.array(fc.constantFrom('\r\n', '\n'), { maxLength: 3 }).map((a) => a.join(''));
    fc.assert(
      fc.property(blanks, method, target, version, fc.boolean(), fc.array(fc.nat(), { maxLength: 8 }), (pre, m, t, v, cr, at) => {
        // The parser feeds the guard everything up to each line's LF, never the LF itself.
        const lines = `${pre}${m} ${t} ${v}${cr ? '\r' : ''}`.split('\n');
        const guard = new RequestLineGuard();
        for (const line of lines) {
          for (const piece of split(Buffer.from(line, 'latin1'), at)) expect(guard.check(piece, 0, piece.length)).toBeNull();
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses only bytes that no request line can start with (checked against the RFC 9112 grammar)', () => {
    // One line as the parser feeds it (no LF), with bytes biased towards the grammar's.
    const byte = fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(...Buffer.from('GET / HTTP/1.1\r PRI*', 'latin1').values()));
    let refused = 0;
    fc.assert(
      fc.property(fc.array(byte.filter((c) => c !== 0x0a), { minLength: 1, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 4 }), (bytes, at) => {
        const buf = Buffer.from(bytes);
        const why = guardVerdict(split(buf, at));
        if (why === null) return;
        refused++;
        // Refused bytes cannot be completed into a valid request line by any ending.
        const text = buf.toString('latin1');
        for (const ending of ['', ' / HTTP/1.1\r', '/ HTTP/1.1', ' HTTP/1.1\r', 'TTP/1.1\r', '.1\r', '\r']) {
          expect(REQUEST_LINE.test(text + ending)).toBe(false);
        }
      }),
      { numRuns: 3000 },
    );
    expect(refused).toBeGreaterThan(0);
  });

  it('decides a TLS record, a NUL or a space-first line on the first byte', () => {
    for (const first of [0x16, 0x00, 0x80, 0xff, 0x20, 0x7f, 0x3a]) expect(guardVerdict([Buffer.from([first])])).toMatch(/cannot begin/);
    expect(guardVerdict([Buffer.from('G')])).toBeNull();
    expect(guardVerdict([Buffer.from('\r\n\r\nGET')])).toBeNull();
  });

  it('HeadParser refuses a ClientHello with 400 after its first byte, without waiting for an LF', () => {
    const parser = new HeadParser('request');
    let err: unknown;
    try {
      parser.push(CLIENT_HELLO_START.subarray(0, 1));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).status).toBe(400);
  });

  it('the HTTP/2 preface is a 400 (as Node answers it); a well-formed HTTP/2.0 request line stays a 505', () => {
    const status = (head: string): number => {
      try {
        new HeadParser('request').push(Buffer.from(head, 'latin1'));
      } catch (e) {
        return (e as HandshakeError).status;
      }
      return -1;
    };
    expect(status('PRI * HTTP/2.0\r\n')).toBe(400);
    expect(status('GET / HTTP/2.0\r\n')).toBe(505);
  });
});

/** Resolves with the server's first 'requestError' and the bytes it had read from that socket then. */
function nextRefusal(s: Started): Promise<{ status: number; bytesRead: number }> {
  return new Promise((resolve) => {
    s.wss.once('requestError', (err: HandshakeError, socket: Socket) => resolve({ status: err.status, bytesRead: socket.bytesRead }));
  });
}

describe('standalone server: bytes that are not HTTP/1.1', () => {
  const cases: Array<[string, Buffer | Buffer[]]> = [
    ['the start of a TLS ClientHello', CLIENT_HELLO_START],
    ['a lone 0x16 byte', Buffer.from([0x16])],
    ['the HTTP/2 connection preface', H2_PREFACE],
    ['binary garbage', Buffer.from([0x00, 0xff, 0x13, 0x37, 0x00, 0x00])],
    ['a method with a NUL in it', Buffer.from('GE\0T / HTTP/1.1\r\n', 'latin1')],
    ['a request line that turns binary after the method', [Buffer.from('GET '), Buffer.from([0x01, 0x02])]],
  ];

  it.each(cases)('%s: 400 and closed at once', async (_name, bytes) => {
    const s = await startServer(PATIENT);
    const refused = nextRefusal(s);
    const r = await rawExchange(s.port, bytes, 20_000);
    expect(r.closed).toBe(true);
    expect(r.text).toBe(BAD_REQUEST);
    const { status, bytesRead } = await refused;
    expect(status).toBe(400);
    expect(bytesRead).toBeLessThanOrEqual(Buffer.concat(Array.isArray(bytes) ? bytes : [bytes]).length);
    await assertServes(s);
    await s.close();
  });

  it('random bytes that start with a non-token byte: 400 and closed, under any split', async () => {
    const s = await startServer(PATIENT);
    const samples = fc.sample(
      fc.tuple(fc.integer({ min: 0, max: 255 }).filter((c) => !TCHARS.includes(String.fromCharCode(c)) && c !== 0x0d && c !== 0x0a), fc.uint8Array({ maxLength: 64 }), fc.nat()),
      { numRuns: 12, seed: 15 },
    );
    for (const [first, tail, cut] of samples) {
      const bytes = Buffer.concat([Buffer.from([first]), tail]);
      const r = await rawExchange(s.port, split(bytes, [cut]), 20_000);
      expect(r.closed).toBe(true);
      expect(r.text).toBe(BAD_REQUEST);
    }
    await assertServes(s);
    await s.close();
  });

  it('a real TLS client on the ws:// port fails at once (it reads an HTTP 400 where a TLS record should be)', async () => {
    const s = await startServer(PATIENT);
    const refused = nextRefusal(s);
    const client = tlsConnect({ host: '127.0.0.1', port: s.port, servername: 'localhost', rejectUnauthorized: false });
    const [err] = await waitFor<[Error & { code?: string }]>(client, 'error', 20_000);
    // OpenSSL reports the 'HTTP/1.1 …' bytes as a record it cannot read.
    expect(err.code).toMatch(/^ERR_SSL_|ECONNRESET/);
    expect((await refused).status).toBe(400);
    client.destroy();
    await assertServes(s);
    await s.close();
  });

  it('a real HTTP/2 client (prior knowledge) on the ws:// port is refused with 400 at once', async () => {
    const s = await startServer(PATIENT);
    const refused = nextRefusal(s);
    const session = http2Connect(`http://127.0.0.1:${s.port}`);
    session.on('error', () => {});
    await waitFor(session, 'close', 20_000);
    expect((await refused).status).toBe(400);
    await assertServes(s);
    await s.close();
  });

  it.each(IMPLS)('%s answers a ClientHello, the HTTP/2 preface and garbage with the same bytes', async (impl) => {
    // ws's standalone http.Server waits 60 s (headersTimeout) for a head it is still reading.
    const s = await startImpl(impl, PATIENT);
    for (const bytes of [CLIENT_HELLO_START, H2_PREFACE, Buffer.from([0x00, 0x01, 0x02])]) {
      const r = await rawExchange(s.port, bytes, 20_000);
      expect(r.closed).toBe(true);
      expect(r.text).toBe(BAD_REQUEST);
    }
    await s.close();
  });
});

describe('attached to an http.Server ({ server })', () => {
  it("Node's own parser answers a ClientHello and a TLS client with 400 at once; the WebSocket server never sees them", async () => {
    const http = createHttpServer((_req, res) => res.end('plain'));
    const wss = new WebSocketServer({ server: http });
    let upgrades = 0;
    wss.on('connection', () => upgrades++);
    http.listen(0, '127.0.0.1');
    await waitFor(http, 'listening');
    const port = (http.address() as AddressInfo).port;

    const r = await rawExchange(port, CLIENT_HELLO_START, 20_000);
    expect(r.closed).toBe(true);
    expect(r.text).toBe(BAD_REQUEST);

    const client = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false });
    const [err] = await waitFor<[Error & { code?: string }]>(client, 'error', 20_000);
    expect(err.code).toMatch(/^ERR_SSL_|ECONNRESET/);
    client.destroy();
    expect(upgrades).toBe(0);

    await new Promise<void>((resolve) => wss.close(() => resolve()));
    await new Promise<void>((resolve) => http.close(() => resolve()));
  });
});
