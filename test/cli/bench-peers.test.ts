import { describe, expect, it } from 'vitest';
import { benchCommand } from '../../src/cli/bench.js';
import { WebSocketServer } from '../../src/index.js';
import { selfSignedCert } from '../server/helpers.js';

type Sink = NodeJS.WritableStream & { text: string };
function io(): { stdout: Sink; stderr: Sink } {
  const mk = (): Sink => {
    const o = { text: '', write: (s: string) => ((o.text += s), true) };
    return o as unknown as Sink;
  };
  return { stdout: mk(), stderr: mk() };
}

async function serve(server: WebSocketServer): Promise<{ port: number; close: () => Promise<void> }> {
  await new Promise<void>((r) => server.once('listening', () => r()));
  return { port: (server.address() as { port: number }).port, close: () => new Promise((r) => server.close(() => r())) };
}

describe('sockwire bench against awkward peers', () => {
  it('counts connections the server closes mid-run, answers its pings and keeps going on the rest', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    let n = 0;
    server.on('connection', (socket) => {
      const mine = n++;
      socket.ping('are you there');
      let seen = 0;
      socket.on('message', (data: Buffer, isBinary: boolean) => {
        // The first connection is closed by the server after a few echoes.
        if (mine === 0 && ++seen === 5) socket.close(1001, 'going away');
        else socket.send(data, { binary: isBinary });
      });
    });
    const s = await serve(server);
    let pongs = 0;
    server.on('connection', (socket) => socket.on('pong', () => pongs++));
    try {
      const o = io();
      const code = await benchCommand([`ws://127.0.0.1:${s.port}/`, '-c', '3', '-d', '0.6', '--warmup', '0', '--size', '16'], o);
      expect(code).toBe(0);
      expect(o.stdout.text).toMatch(/3 opened, 0 failed, 1 closed early/);
      expect(pongs).toBe(3);
    } finally {
      await s.close();
    }
  });

  it('reports replies that are not echoes', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    server.on('connection', (socket) => socket.on('message', () => socket.send('not what you sent')));
    const s = await serve(server);
    try {
      const o = io();
      expect(await benchCommand([`ws://127.0.0.1:${s.port}/`, '-c', '1', '-d', '0.3', '--warmup', '0'], o)).toBe(0);
      expect(o.stdout.text).toMatch(/warning +[\d,]+ replies were not echoes/);
    } finally {
      await s.close();
    }
  });

  const pair = selfSignedCert();
  it.skipIf(pair === null)('speaks wss:// and needs --insecure for a self-signed certificate', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1', tls: pair! });
    server.on('connection', (socket) => socket.on('message', (data: Buffer, isBinary: boolean) => socket.send(data, { binary: isBinary })));
    const s = await serve(server);
    try {
      const refused = io();
      expect(await benchCommand([`wss://127.0.0.1:${s.port}/`, '-c', '1', '-d', '0.3'], refused)).toBe(1);
      expect(refused.stderr.text).toMatch(/self[- ]signed/i);
      const o = io();
      expect(await benchCommand([`wss://127.0.0.1:${s.port}/`, '-c', '2', '-d', '0.5', '--warmup', '0', '--insecure'], o)).toBe(0);
      expect(o.stdout.text).toMatch(/2 opened, 0 failed, 0 closed early; 0 errors/);
    } finally {
      await s.close();
    }
  });
});
