import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import { clientFrame, collect, parseServerFrames, rawConnect, rawUpgrade, sleep, startServer, track, upgradeRequest, failOnUncaught } from './helpers.js';

/*
 * Peers that hold resources by doing nothing: trickled requests, unanswered closes and pings,
 * connections never closed. Each must be released by a timeout, not held forever.
 */

failOnUncaught();

describe('resources held by idle or stalling peers are released', () => {
  it('slowloris: requests trickled a byte at a time get 408 at handshakeTimeout and are closed', async () => {
    const s = await startServer({ handshakeTimeout: 300 });
    const request = upgradeRequest();
    const sockets = await Promise.all(Array.from({ length: 30 }, () => rawConnect(s.port)));
    const results = sockets.map((socket) => collect(socket, 5000));
    let stop = false;
    const trickle = (async () => {
      for (let i = 0; i < request.length - 4 && !stop; i++) {
        for (const socket of sockets) if (!socket.destroyed) socket.write(request[i]!);
        await sleep(20);
      }
    })();
    const outcomes = await Promise.all(results);
    stop = true;
    await trickle;
    for (const { data, closed } of outcomes) {
      expect(data.toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
      expect(closed).toBe(true);
    }
    expect((s.wss as unknown as { handshaking: Set<unknown> }).handshaking.size).toBe(0);
    await s.close();
  });

  it('a client that never closes TCP after the closing handshake is dropped at closeTimeout', async () => {
    const s = await startServer({ closeTimeout: 300 });
    const connected = new Promise<WebSocket>((r) => s.wss.once('connection', r));
    const { socket } = await rawUpgrade(s.port);
    const t = track(await connected);
    const serverSide = (await connected).socket as Socket;
    // The client reads the echo and the FIN but never ends its side.
    socket.allowHalfOpen = true;
    socket.on('data', () => {});
    const started = Date.now();
    socket.write(clientFrame(8, Buffer.from([0x03, 0xe8])));
    expect(await t.closed).toBe(1000);
    expect(t.closes).toEqual([1000]);
    expect(serverSide.destroyed).toBe(true);
    // Not a timing assertion: proof that the timer, not the client, ended it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(s.wss.clients.size).toBe(0);
    socket.destroy();
    await s.close();
  });

  it('wss.close() completes even when a client never answers its Close (dropped at closeTimeout, 1006)', async () => {
    const s = await startServer({ closeTimeout: 300 });
    const connected = new Promise<WebSocket>((r) => s.wss.once('connection', r));
    const { socket } = await rawUpgrade(s.port);
    const t = track(await connected);
    const got: Buffer[] = [];
    socket.on('data', (c: Buffer) => got.push(c));
    await s.close();
    expect(t.closes).toEqual([1006]);
    const close = parseServerFrames(Buffer.concat(got)).find((f) => f.opcode === 8);
    expect(close?.payload.readUInt16BE(0)).toBe(1001);
    socket.destroy();
  });

  it('heartbeat: a peer that stops answering pings (half-open TCP) is terminated', async () => {
    const s = await startServer({ heartbeat: 100 });
    const connected = new Promise<WebSocket>((r) => s.wss.once('connection', r));
    const { socket } = await rawUpgrade(s.port);
    const t = track(await connected);
    let pings = 0;
    socket.on('data', (c: Buffer) => (pings += parseServerFrames(c).filter((f) => f.opcode === 9).length));
    expect(await t.closed).toBe(1006);
    expect(pings).toBeGreaterThanOrEqual(1);
    expect(s.wss.clients.size).toBe(0);
    socket.destroy();
    await s.close();
  });
});
