/**
 * A second, independent HTTP/2 WebSocket peer: undici 7's WebSocket with an `allowH2` Agent
 * opens its WebSockets as RFC 8441 extended CONNECTs against sockwire's server. undici sends a
 * Sec-WebSocket-Key over HTTP/2 and refuses a 200 without the matching accept (RFC 8441 § 5 says
 * neither is processed); sockwire tolerates the key and answers the accept, which this proves
 * is what lets undici connect.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Agent, WebSocket as UndiciWebSocket } from 'undici';
import { startH2, waitFor, type H2Setup } from './helpers.js';

let setup: H2Setup | null = null;
let agent: Agent | null = null;
afterEach(async () => {
  await agent?.close();
  agent = null;
  await setup?.close();
  setup = null;
});

type Closed = { code: number; wasClean: boolean };

function run(url: string, dispatcher: Agent): Promise<{ opened: boolean; protocol: string; extensions: string; echoes: unknown[]; closed: Closed }> {
  return new Promise((resolve) => {
    const ws = new UndiciWebSocket(url, { dispatcher, protocols: ['chat'] });
    ws.binaryType = 'arraybuffer';
    const echoes: unknown[] = [];
    let opened = false;
    ws.onopen = () => {
      opened = true;
      ws.send('text over h2');
      ws.send(new Uint8Array([9, 8, 7]));
    };
    ws.onmessage = (e) => {
      echoes.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data as ArrayBuffer)));
      if (echoes.length === 2) ws.close(1000, 'done');
    };
    ws.onclose = (e) => resolve({ opened, protocol: ws.protocol, extensions: ws.extensions, echoes, closed: { code: e.code, wasClean: e.wasClean } });
  });
}

describe('undici 7 (allowH2) against sockwire over HTTP/2', () => {
  it('connects over an HTTP/2 stream, negotiates, echoes text and binary, closes cleanly', async () => {
    setup = await startH2({ secure: true, wss: { perMessageDeflate: true } });
    const versions: Array<[string, boolean]> = [];
    setup.wss.on('connection', (ws, req) => {
      versions.push([req.httpVersion, req.headers['sec-websocket-key'] !== undefined]);
      ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    });
    agent = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } });
    const r = await run(`wss://127.0.0.1:${setup.port}/`, agent);
    expect(r).toEqual({ opened: true, protocol: 'chat', extensions: 'permessage-deflate', echoes: ['text over h2', [9, 8, 7]], closed: { code: 1000, wasClean: true } });
    // Over HTTP/2, and undici did send a key.
    expect(versions).toEqual([['2.0', true]]);
  });

  it('without the accept answer undici refuses the 200 — why sockwire sends it', async () => {
    setup = await startH2({ secure: true });
    setup.wss.on('headers', (lines) => {
      const i = lines.findIndex((l) => l.startsWith('sec-websocket-accept'));
      if (i !== -1) lines.splice(i, 1);
    });
    const opened = waitFor(setup.wss, 'connection');
    agent = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } });
    const r = await run(`wss://127.0.0.1:${setup.port}/`, agent);
    await opened;
    expect([r.opened, r.closed.code]).toEqual([false, 1006]);
  });
});
