import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/index.js';
import { HOST, IMPLS, rawExchange, startImpl, upgradeRequest, waitFor, type Impl, type StartedImpl } from './helpers.js';

/**
 * Standalone mode answers plain HTTP as ws's internal http.Server does: 426 'Upgrade Required'
 * (text/plain), keep-alive as Node decides it. Each exchange ends with a `Connection: close`
 * request so the server itself ends the connection (no waiting on a timer).
 */

const PLAIN = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
const LAST = 'GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
const withoutDates = (text: string): string => text.replace(/\r\nDate: [^\r]*/g, '');

describe('plain HTTP requests get 426, byte for byte as from ws', () => {
  const servers = {} as Record<Impl, StartedImpl>;
  beforeAll(async () => {
    for (const impl of IMPLS) servers[impl] = await startImpl(impl);
  });
  afterAll(async () => {
    for (const s of Object.values(servers)) await s.close();
  });

  async function both(data: string): Promise<[string, string]> {
    const [ours, theirs] = await Promise.all(IMPLS.map((impl) => rawExchange(servers[impl].port, data)));
    expect(ours!.closed).toBe(true);
    expect(theirs!.closed).toBe(true);
    return [ours!.text, theirs!.text];
  }

  it('one request: 426 with a text body, Date, and keep-alive', async () => {
    const [ours, theirs] = await both(PLAIN + LAST);
    const first = ours.split('Upgrade RequiredHTTP/1.1')[0] + 'Upgrade Required';
    expect(withoutDates(first)).toBe(
      'HTTP/1.1 426 Upgrade Required\r\nContent-Length: 16\r\nContent-Type: text/plain\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\nUpgrade Required',
    );
    const date = /\r\nDate: ([^\r]*)/.exec(ours)![1]!;
    expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(5000);
    expect(withoutDates(ours)).toBe(withoutDates(theirs));
  });

  it('Connection: close is answered and the connection ended', async () => {
    const [ours, theirs] = await both(LAST);
    expect(withoutDates(ours)).toBe('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 16\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nUpgrade Required');
    expect(withoutDates(ours)).toBe(withoutDates(theirs));
  });

  it('pipelined requests, HEAD (no body) and a skipped Content-Length body on one connection', async () => {
    const data = PLAIN + 'HEAD / HTTP/1.1\r\nHost: x\r\n\r\n' + 'POST /form HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde' + LAST;
    const [ours, theirs] = await both(data);
    expect(ours.match(/HTTP\/1\.1 426/g)).toHaveLength(4);
    expect(withoutDates(ours)).toBe(withoutDates(theirs));
  });

  it('a body arriving in pieces is skipped, then the next request is answered', async () => {
    const parts = ['POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc', 'defg', 'hij' + LAST];
    const [ours, theirs] = await Promise.all(IMPLS.map((impl) => rawExchange(servers[impl].port, parts)));
    expect(ours!.text.match(/HTTP\/1\.1 426/g)).toHaveLength(2);
    expect(withoutDates(ours!.text)).toBe(withoutDates(theirs!.text));
  });

  it('an upgrade request after a plain one on the same connection is upgraded', async () => {
    const [ours, theirs] = await Promise.all(IMPLS.map((impl) => rawExchange(servers[impl].port, PLAIN + upgradeRequest(), 300)));
    for (const res of [ours!, theirs!]) {
      expect(res.text).toMatch(/^HTTP\/1\.1 426 [^]*Upgrade RequiredHTTP\/1\.1 101 Switching Protocols\r\n/);
    }
  });

  it('CONNECT is dropped without an answer', async () => {
    const [ours, theirs] = await Promise.all(IMPLS.map((impl) => rawExchange(servers[impl].port, 'CONNECT x:80 HTTP/1.1\r\nHost: x:80\r\n\r\n')));
    expect(ours!.text).toBe('');
    expect(ours!.closed).toBe(true);
    expect(theirs!.text).toBe('');
  });

  it('http.get sees status 426, text/plain and the body', async () => {
    for (const impl of IMPLS) {
      const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) =>
        get({ host: HOST, port: servers[impl].port, path: '/', agent: false }, resolve).on('error', reject),
      );
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      await waitFor(res, 'end');
      expect([res.statusCode, res.statusMessage, res.headers['content-type'], body], impl).toEqual([426, 'Upgrade Required', 'text/plain', 'Upgrade Required']);
    }
  });

  it('sockwire deliberately differs: a chunked body is not parsed, the 426 closes the connection', async () => {
    const res = await rawExchange(servers.sockwire.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n');
    expect(withoutDates(res.text)).toBe('HTTP/1.1 426 Upgrade Required\r\nContent-Length: 16\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nUpgrade Required');
    expect(res.closed).toBe(true);
  });
});

describe('the listening server, as ws’s', () => {
  it.each(IMPLS)('%s: the constructor callback is a listening listener; address() reports host and port', async (impl) => {
    let called = 0;
    const options = { port: 0, host: HOST };
    const wss = impl === 'ws' ? new WsServer(options, () => called++) : new WebSocketServer({ ...options, heartbeat: 0 }, () => called++);
    await waitFor(wss, 'listening');
    expect(called).toBe(1);
    const address = wss.address() as AddressInfo;
    expect([address.address, address.family, address.port > 0]).toEqual([HOST, 'IPv4', true]);
    await new Promise<void>((r) => wss.close(() => r()));
  });

  it.each(IMPLS)('%s: EADDRINUSE is emitted as error, and close() still completes', async (impl) => {
    const first = await startImpl(impl);
    const second = impl === 'ws' ? new WsServer({ port: first.port, host: HOST }) : new WebSocketServer({ port: first.port, host: HOST, heartbeat: 0 });
    const [err] = await waitFor<[NodeJS.ErrnoException]>(second, 'error');
    expect(err.code).toBe('EADDRINUSE');
    await new Promise<void>((r) => second.close(() => r()));
    await first.close();
  });

  it('backlog is passed to listen (a value of 1 still serves clients)', async () => {
    const wss = new WebSocketServer({ port: 0, host: HOST, backlog: 1, heartbeat: 0 });
    await waitFor(wss, 'listening');
    const client = new WS(`ws://${HOST}:${(wss.address() as AddressInfo).port}`);
    await waitFor(client, 'open');
    client.terminate();
    await waitFor(client, 'close');
    await new Promise<void>((r) => wss.close(() => r()));
  });
});
