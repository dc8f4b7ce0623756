/**
 * The outbound queue's trim (called by the server's heartbeat each round): an idle connection
 * lets go of its written-message list and write callback, and a connection with writes in
 * flight keeps them, since each in-flight write will call the callback it was given.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { OutboundQueue } from '../../src/connection/outbound-queue.js';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { startServer, waitFor, type Started } from '../server/helpers.js';

describe('OutboundQueue.trim', () => {
  it('is a no-op while a write is in flight, and lets go once all have settled', () => {
    const q = new OutboundQueue();
    const settled: string[] = [];
    expect(q.admit(5, () => settled.push('a'))).toBe(true);
    const first = q.afterWrite;
    q.trim();
    // Still the callback the in-flight write holds, and still accounting for its bytes.
    expect(q.afterWrite).toBe(first);
    expect(q.buffered).toBe(5);
    first(null);
    expect(settled).toEqual(['a']);
    expect(q.buffered).toBe(0);
    q.trim();
    // The next sends account and settle as before, in order, with a callback made anew.
    q.admit(3, () => settled.push('b'));
    q.admit(4, () => settled.push('c'));
    expect(q.afterWrite).not.toBe(first);
    expect(q.buffered).toBe(7);
    q.afterWrite(null);
    q.afterWrite(null);
    expect(settled).toEqual(['a', 'b', 'c']);
    expect(q.buffered).toBe(0);
  });
});

describe('the heartbeat trims idle connections', () => {
  let s: Started | null = null;
  afterEach(async () => {
    await s?.close();
    s = null;
  });

  it('sends with callbacks across heartbeat rounds arrive in order and settle, bufferedAmount back to 0', async () => {
    s = await startServer({ heartbeat: 40 });
    const conn = waitFor<[WebSocket]>(s.wss as unknown as WebSocketServer, 'connection');
    const client = new WS(s.url);
    const received: string[] = [];
    client.on('message', (d) => received.push(String(d)));
    await waitFor(client, 'open');
    const [ws] = await conn;
    const done: string[] = [];
    for (let round = 0; round < 3; round++) {
      // A heartbeat round (and its trim) passes between sends: wait for its Ping at the client.
      await waitFor(client, 'ping', 2000);
      await new Promise<void>((resolve, reject) => ws.send(`m${round}`, (err) => (err ? reject(err) : (done.push(`m${round}`), resolve()))));
    }
    await new Promise<void>((r) => (received.length === 3 ? r() : client.on('message', () => received.length === 3 && r())));
    expect(received).toEqual(['m0', 'm1', 'm2']);
    expect(done).toEqual(['m0', 'm1', 'm2']);
    expect(ws.bufferedAmount).toBe(0);
    client.terminate();
  });
});
