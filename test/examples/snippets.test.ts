import { afterEach, describe, expect, it } from 'vitest';
import WS, { WebSocketServer as WsServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { runExample, type Running } from './spawn-example.js';

// The two snippets this project started from, in examples/, differ from their ws / browser
// originals only in the import line. These tests run them as separate processes.
let running: Running | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

describe('examples/broadcast-server.js (the ws snippet)', () => {
  it('broadcasts every message to every connected client', async () => {
    running = runExample('examples/broadcast-server.js', ['0']);
    const [, port] = (await running.waitFor(/localhost:(\d+)/)) as unknown as [string, string];
    const a = new WS(`ws://127.0.0.1:${port}`);
    const b = new WS(`ws://127.0.0.1:${port}`);
    await Promise.all([a, b].map((c) => new Promise((r) => c.once('open', r))));
    const got = (c: WS): Promise<string> => new Promise((r) => c.once('message', (d) => r(d.toString())));
    const both = Promise.all([got(a), got(b)]);
    a.send('hi everyone');
    expect(await both).toEqual(['hi everyone', 'hi everyone']);
    a.close();
    b.close();
  });
});

describe('examples/browser-client.js (the browser snippet)', () => {
  it('opens, sends, receives the echo and closes cleanly', async () => {
    const echo = new WsServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => echo.once('listening', r));
    echo.on('connection', (s) => s.on('message', (d, isBinary) => s.send(d, { binary: isBinary })));
    try {
      running = runExample('examples/browser-client.js', [`ws://127.0.0.1:${(echo.address() as AddressInfo).port}`]);
      await running.waitFor(/close: 1000 done true/);
      expect(running.output()).toContain('open');
      expect(running.output()).toContain('message: hello from a browser-style client');
    } finally {
      echo.close();
    }
  });
});
