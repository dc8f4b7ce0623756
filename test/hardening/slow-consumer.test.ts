import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from '../../src/index.js';

/** A client that completes the handshake and then never reads another byte. */
async function stalledClient(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise((r) => socket.once('data', r));
  socket.pause();
  return socket;
}

async function server(options: ConstructorParameters<typeof WebSocketServer>[0]): Promise<[WebSocketServer, number]> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  await new Promise((r) => wss.once('listening', r));
  return [wss, (wss.address() as { port: number }).port];
}

describe('a peer that stops reading', () => {
  it("cannot grow the server's memory: past maxBufferedAmount the connection fails with 1013", async () => {
    const [wss, port] = await server({ maxBufferedAmount: 1 << 20, closeTimeout: 200 });
    const connected = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = await stalledClient(port);
    const ws = await connected;
    const closed = new Promise<number>((r) => ws.once('close', (code: number) => r(code)));
    const chunk = Buffer.alloc(64 * 1024);
    let accepted = 0;
    const refused = new Promise<Error | null | undefined>((resolve) => {
      for (let i = 0; i < 200 && ws.readyState === ws.OPEN; i++) {
        ws.send(chunk, (err) => err && resolve(err));
        if (ws.readyState === ws.OPEN) accepted++;
      }
    });
    expect(ws.bufferedAmount).toBeLessThanOrEqual(1 << 20);
    expect(accepted).toBeLessThan(200);
    expect(ws.readyState).toBe(ws.CLOSING);
    expect((await refused)!.message).toMatch(/maxBufferedAmount/);
    // The Close frame (1013) cannot reach a peer that does not read: closeTimeout drops TCP,
    // and a connection that ends without the peer's Close is reported as 1006 (as ws does).
    expect(await closed).toBe(1006);
    client.destroy();
    await new Promise((r) => wss.close(r));
  });

  it("with onBufferOverflow 'error', the send is refused and the connection stays open", async () => {
    const [wss, port] = await server({ maxBufferedAmount: 256 * 1024, onBufferOverflow: 'error' });
    const connected = new Promise<WebSocket>((r) => wss.once('connection', r));
    const client = await stalledClient(port);
    const ws = await connected;
    const errors: Error[] = [];
    for (let i = 0; i < 50; i++) ws.send(Buffer.alloc(64 * 1024), (err) => err && errors.push(err));
    await new Promise((r) => setTimeout(r, 50));
    expect(errors.length).toBeGreaterThan(0);
    expect(errors[0]!.message).toMatch(/maxBufferedAmount/);
    expect(ws.readyState).toBe(ws.OPEN);
    expect(ws.bufferedAmount).toBeLessThanOrEqual(256 * 1024);
    client.destroy();
    await new Promise((r) => wss.close(r));
  });
});
