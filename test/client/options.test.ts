import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer, type UpgradeRequest } from '../../src/index.js';
import { frame, selfSignedCert, until, waitFor } from '../server/helpers.js';
import { startRawServer, switching, type RawUpgrade } from '../websocket/raw-server.js';
import { BOTH, settle, type AnyClient } from './helpers.js';

/**
 * Options that shape the connection once it is open (maxPayload, skipUTF8Validation, autoPong)
 * and the transport options the request hands to TLS (servername), with ws alongside; and
 * the response-head limits sockwire adds.
 */
type Raw = Awaited<ReturnType<typeof startRawServer>>;
const servers: Raw[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A raw server that answers 101 and hands each upgraded connection to `onUpgrade`. */
async function raw(onUpgrade: (u: RawUpgrade) => void): Promise<Raw> {
  const s = await startRawServer({ answer: (req) => switching(req.headers), onUpgrade });
  servers.push(s);
  return s;
}

describe('after the handshake', () => {
  it('maxPayload: a larger message fails the connection as in ws (same error code and class)', async () => {
    const s = await raw((u) => u.socket.write(frame(0x1, 'x'.repeat(64), { mask: false })));
    const results: Array<{ events: string[]; code: unknown; isRange: boolean }> = [];
    for (const [, Client] of BOTH) {
      const r = await settle(new Client(s.url, { maxPayload: 16 }));
      results.push({ events: r.events.map((e) => (e.startsWith('error') ? 'error' : e)), code: (r.error as NodeJS.ErrnoException).code, isRange: r.error instanceof RangeError });
    }
    expect(results[0]).toEqual(results[1]);
    expect(results[0]).toEqual({ events: ['open', 'error', 'close 1006'], code: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH', isRange: true });
  });

  it('skipUTF8Validation: invalid UTF-8 text is delivered instead of failing the connection', async () => {
    const s = await raw((u) => u.socket.write(frame(0x1, Buffer.from([0x68, 0xff, 0x69]), { mask: false })));
    for (const [, Client] of BOTH) {
      const strict = await settle(new Client(s.url));
      expect(strict.events.slice(0, 2)).toEqual(['open', expect.stringMatching(/^error: /)]);
      const lax = new Client(s.url, { skipUTF8Validation: true });
      const [data] = await waitFor<[Buffer]>(lax, 'message');
      expect([...data]).toEqual([0x68, 0xff, 0x69]);
      lax.terminate();
    }
  });

  it('autoPong: false leaves pings unanswered; the default answers them', async () => {
    const upgrades: RawUpgrade[] = [];
    const s = await raw((u) => {
      upgrades.push(u);
      u.socket.write(frame(0x9, 'are you there', { mask: false }));
      u.socket.write(frame(0x1, 'after the ping', { mask: false }));
    });
    for (const [, Client] of BOTH) {
      for (const autoPong of [true, false]) {
        const ws: AnyClient = new Client(s.url, { autoPong });
        const pinged = waitFor<[Buffer]>(ws, 'ping');
        await waitFor(ws, 'message');
        expect((await pinged)[0].toString()).toBe('are you there');
        // A text frame from the client marks the end of what it wrote in answer to the ping.
        ws.send('done');
        const u = upgrades.at(-1)!;
        await until(() => u.reader.frames.some((f) => f.opcode === 0x1), 2000, "the client's text frame");
        const pongs = u.reader.frames.filter((f) => f.opcode === 0xa);
        expect(pongs.map((f) => f.payload.toString())).toEqual(autoPong ? ['are you there'] : []);
        ws.terminate();
      }
    }
  });
});

describe('the response head limits', () => {
  it('maxHeaderBytes: a 101 beyond 16 KiB fails by default and passes with a larger limit', async () => {
    const big = 'z'.repeat(20_000);
    const s = await startRawServer({ answer: (req) => switching(req.headers, [`X-Big: ${big}`]) });
    servers.push(s);
    const refused = await settle(new WebSocket(s.url));
    expect(refused.events).toEqual([expect.stringMatching(/^error: .*[Hh]eader/), 'close 1006']);
    const ws = new WebSocket(s.url, { maxHeaderBytes: 64 * 1024 });
    let header = '';
    ws.on('upgrade', (res: { headers: Record<string, string> }) => (header = res.headers['x-big']!));
    await waitFor(ws, 'open');
    expect(header).toBe(big);
    ws.terminate();
  });
});

const pair = selfSignedCert();

describe.skipIf(pair === null)('TLS options reach the TLS socket (skipped without openssl)', () => {
  it('servername sets SNI; a host name is the default one, an IP address sends none — as in ws', async () => {
    const https = createHttpsServer({ cert: pair!.cert, key: pair!.key });
    const wss = new WebSocketServer({ server: https, heartbeat: 0 });
    const names: Array<string | false | null | undefined> = [];
    wss.on('connection', (ws: WebSocket, req: UpgradeRequest) => {
      names.push((req.socket as TLSSocket).servername);
      ws.close();
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    try {
      const perClient: Array<Array<string | false | null | undefined>> = [];
      for (const [, Client] of BOTH) {
        names.length = 0;
        for (const [url, extra] of [
          [`wss://localhost:${port}/`, {}],
          [`wss://127.0.0.1:${port}/`, {}],
          [`wss://127.0.0.1:${port}/`, { servername: 'localhost' }],
        ] as const) {
          const r = await settle(new Client(url, { ca: pair!.cert, ...extra }));
          expect(r.events[0]).toBe('open');
        }
        perClient.push([...names]);
      }
      expect(perClient[0]).toEqual(perClient[1]);
      expect(perClient[0]).toEqual(['localhost', false, 'localhost']);
    } finally {
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      https.closeAllConnections();
      await new Promise<void>((resolve) => https.close(() => resolve()));
    }
  });
});
