import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WS from 'ws';
import { CloseEvent, WebSocket, WebSocketServer, type VerifyClientInfo } from '../../src/index.js';
import { selfSignedCert, startServer, waitFor, type Started } from '../server/helpers.js';

/**
 * wss:// end to end: the sockwire server in `{ port, tls }` mode with a self-signed
 * certificate made at run time, and the sockwire client trusting it via `ca` or not at all.
 */
const pair = selfSignedCert();
const secure: boolean[] = [];
let s: Started;

describe.skipIf(pair === null)('wss:// (skipped when openssl is missing or fails)', () => {
  beforeAll(async () => {
    s = await startServer({
      heartbeat: 0,
      tls: { cert: pair!.cert, key: pair!.key },
      verifyClient: (info: VerifyClientInfo) => (secure.push(info.secure), true),
    });
    s.wss.on('connection', (ws: WebSocket) => ws.on('message', (d: Buffer, isBinary: boolean) => ws.send(isBinary ? d : d.toString())));
  });
  afterAll(() => s.close());

  const wssUrl = (host: string): string => `wss://${host}:${s.port}/secure`;

  it('connects with the certificate as ca, echoes, and closes cleanly', async () => {
    const ws = new WebSocket(wssUrl('127.0.0.1'), { ca: pair!.cert });
    await waitFor(ws, 'open');
    expect(ws.url).toBe(wssUrl('127.0.0.1'));
    ws.send('over tls');
    const [data] = await waitFor<[Buffer]>(ws, 'message');
    expect(data.toString()).toBe('over tls');
    const ev = new Promise<CloseEvent>((resolve) => (ws.onclose = resolve));
    ws.close(1000, 'done');
    const ce = await ev;
    expect([ce.code, ce.wasClean]).toEqual([1000, true]);
    expect(secure.at(-1)).toBe(true);
  });

  it('checks the host name against the certificate (localhost)', async () => {
    const ws = new WebSocket(wssUrl('localhost'), { ca: pair!.cert, family: 4 });
    await waitFor(ws, 'open');
    ws.terminate();
  });

  it('rejectUnauthorized: false accepts the self-signed certificate', async () => {
    const ws = new WebSocket(wssUrl('127.0.0.1'), { rejectUnauthorized: false });
    await waitFor(ws, 'open');
    ws.terminate();
  });

  it('an untrusted certificate fails the connection: error then close 1006', async () => {
    const ws = new WebSocket(wssUrl('127.0.0.1'));
    const order: string[] = [];
    let error: Error | null = null;
    ws.on('error', (err: Error) => ((error = err), order.push('error')));
    const [code] = await waitFor<[number]>(ws, 'close');
    order.push('close');
    expect(order).toEqual(['error', 'close']);
    expect(code).toBe(1006);
    expect(error!.message).toMatch(/self.signed|certificate/i);
  });

  it('a ws client speaks to the TLS server too', async () => {
    const client = new WS(wssUrl('127.0.0.1'), { ca: pair!.cert });
    await waitFor(client, 'open');
    client.send('from ws');
    const [data] = await waitFor<[Buffer]>(client, 'message');
    expect(data.toString()).toBe('from ws');
    client.terminate();
  });

  it('{ server: https.Server } mode upgrades wss:// and reports secure: true', async () => {
    const https = createHttpsServer({ cert: pair!.cert, key: pair!.key }, (_req, res) => res.end('https ok'));
    const seen: boolean[] = [];
    const wss = new WebSocketServer({ server: https, heartbeat: 0, verifyClient: (info: VerifyClientInfo) => (seen.push(info.secure), true) });
    https.listen(0, '127.0.0.1');
    await waitFor(wss, 'listening');
    try {
      const port = (https.address() as AddressInfo).port;
      const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: pair!.cert });
      await waitFor(ws, 'open');
      expect(seen).toEqual([true]);
      const closed = waitFor<[number]>(ws, 'close');
      ws.close(1000);
      expect((await closed)[0]).toBe(1000);
    } finally {
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => https.close(() => r()));
    }
  });

  it('a plain-text client against the TLS port does not upgrade', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${s.port}/secure`, { handshakeTimeout: 1000 });
    ws.on('error', () => {});
    const opened: string[] = [];
    ws.on('open', () => opened.push('open'));
    const [code] = await waitFor<[number]>(ws, 'close');
    expect(code).toBe(1006);
    expect(opened).toEqual([]);
  });
});

