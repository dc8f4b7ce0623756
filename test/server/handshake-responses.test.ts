import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCEPT, headerOf, rawExchange, startServer, upgradeRequest, waitFor, type Started } from './helpers.js';

/**
 * What the standalone server answers to bad upgrade requests over a raw socket: the right
 * status, the headers that let a client recover, and the connection closed afterwards.
 */
describe('standalone server: refused handshakes over a raw socket', () => {
  let s: Started;
  beforeAll(async () => {
    s = await startServer({ path: '/ws', heartbeat: 0 });
  });
  afterAll(() => s.close());

  const refusals: Array<[string, Parameters<typeof upgradeRequest>[0], number]> = [
    ['missing Sec-WebSocket-Key', { path: '/ws', headers: { 'Sec-WebSocket-Key': null } }, 400],
    ['malformed Sec-WebSocket-Key', { path: '/ws', headers: { 'Sec-WebSocket-Key': 'too-short' } }, 400],
    ['key of 15 bytes', { path: '/ws', headers: { 'Sec-WebSocket-Key': Buffer.alloc(15).toString('base64') } }, 400],
    ['missing Upgrade', { path: '/ws', headers: { Upgrade: null } }, 400],
    ['Upgrade other than websocket', { path: '/ws', headers: { Upgrade: 'h2c' } }, 400],
    ['missing Connection', { path: '/ws', headers: { Connection: null } }, 400],
    ['Connection without upgrade token', { path: '/ws', headers: { Connection: 'keep-alive' } }, 400],
    ['POST', { path: '/ws', method: 'POST' }, 405],
    ['wrong path', { path: '/other' }, 400],
  ];

  it.each(refusals)('%s → %i and the connection is closed', async (_name, req, status) => {
    const res = await rawExchange(s.port, upgradeRequest(req));
    expect(res.status).toBe(status);
    expect(res.closed).toBe(true);
    expect(res.text).not.toContain('101 Switching');
  });

  it('405 names the allowed method', async () => {
    const res = await rawExchange(s.port, upgradeRequest({ path: '/ws', method: 'POST' }));
    expect(headerOf(res.text.split('\r\n\r\n')[0]!, 'Allow')).toBe('GET');
  });

  it('version 8 → 426 with Sec-WebSocket-Version: 13 so the client can retry', async () => {
    const res = await rawExchange(s.port, upgradeRequest({ path: '/ws', headers: { 'Sec-WebSocket-Version': '8' } }));
    expect(res.status).toBe(426);
    expect(headerOf(res.text.split('\r\n\r\n')[0]!, 'Sec-WebSocket-Version')).toBe('13');
    expect(res.closed).toBe(true);
  });

  it('a head over 16 KiB → 431 and closed', async () => {
    const res = await rawExchange(s.port, upgradeRequest({ path: '/ws', extra: [`X-Big: ${'a'.repeat(17 * 1024)}`] }));
    expect(res.status).toBe(431);
    expect(res.closed).toBe(true);
  });

  it('more than 100 header lines → 431 and closed', async () => {
    const extra = Array.from({ length: 101 }, (_, i) => `X-H${i}: v`);
    const res = await rawExchange(s.port, upgradeRequest({ path: '/ws', extra }));
    expect(res.status).toBe(431);
    expect(res.closed).toBe(true);
  });

  it('an oversized head sent in small pieces is refused without waiting for its end', async () => {
    const pieces = Array.from({ length: 20 }, () => `X-Pad: ${'b'.repeat(1000)}\r\n`);
    // No terminating blank line: the server must decide from the size alone.
    const res = await rawExchange(s.port, ['GET /ws HTTP/1.1\r\nHost: x\r\n', ...pieces], 2000);
    expect(res.status).toBe(431);
    expect(res.closed).toBe(true);
  });

  it('garbage instead of HTTP → 400 and closed', async () => {
    const res = await rawExchange(s.port, 'HELLO THERE\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.closed).toBe(true);
  });

  it('a valid request on the right path (with a query) → 101 with the RFC accept value', async () => {
    const res = await rawExchange(s.port, upgradeRequest({ path: '/ws?token=1' }), 300);
    expect(res.status).toBe(101);
    expect(headerOf(res.text.split('\r\n\r\n')[0]!, 'Sec-WebSocket-Accept')).toBe(ACCEPT);
  });

  it('refusals are reported through wsClientError', async () => {
    const seen = waitFor<[Error]>(s.wss, 'wsClientError');
    await rawExchange(s.port, upgradeRequest({ path: '/ws', method: 'PUT' }));
    const [err] = await seen;
    expect(err).toBeInstanceOf(Error);
    expect((err as Error & { status?: number }).status).toBe(405);
  });
});

describe('standalone server: stalled handshakes', () => {
  it('half a request then silence → 408 and the connection closed after handshakeTimeout', async () => {
    const s = await startServer({ handshakeTimeout: 150, heartbeat: 0 });
    try {
      const started = Date.now();
      const res = await rawExchange(s.port, 'GET / HTTP/1.1\r\nHost: x\r\nUpgr', 3000);
      expect(res.status).toBe(408);
      expect(res.closed).toBe(true);
      expect(Date.now() - started).toBeGreaterThanOrEqual(100);
    } finally {
      await s.close();
    }
  });

  it('a connection that sends nothing at all is also dropped', async () => {
    const s = await startServer({ handshakeTimeout: 150, heartbeat: 0 });
    try {
      const res = await rawExchange(s.port, Buffer.alloc(0), 3000);
      expect(res.closed).toBe(true);
    } finally {
      await s.close();
    }
  });
});
