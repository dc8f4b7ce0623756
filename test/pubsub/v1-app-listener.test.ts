// On a sockwire.pubsub.v1 connection the server's v1 session is the only consumer of what the
// client sends (every frame is a v1 request or publish): application 'message' listeners —
// Node-style or addEventListener — never see those frames, and the session still answers them.
import { afterEach, describe, expect, it } from 'vitest';
import type WS from 'ws';
import { WebSocketServer } from '../../src/index.js';
import { untilMessages, v1Peer } from './v1-peer.js';

const servers: WebSocketServer[] = [];
const peers: WS[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.terminate();
  for (const wss of servers.splice(0)) {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});

describe('sockwire.pubsub.v1: application message listeners', () => {
  it('see none of the v1 requests and publishes, which the session answers', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pubsub: true });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    const seenByApp: unknown[] = [];
    const protocols: string[] = [];
    wss.on('connection', (ws) => {
      protocols.push(ws.protocol);
      ws.on('message', (data) => seenByApp.push(data));
      ws.addEventListener('message', (event) => seenByApp.push(event.data));
    });
    const p = await v1Peer((wss.address() as { port: number }).port);
    peers.push(p.ws);
    p.subscribe(1, 'room');
    await p.next((e) => e.kind === 'reply' && e.id === 1);
    p.publish(2, 'room', 'text');
    p.publish(3, 'room', Buffer.from([0, 1, 2]));
    await p.next((e) => e.kind === 'reply' && e.id === 3);
    expect((await untilMessages(p, 'room', 2)).map((m) => m.text)).toEqual(['text', 'bin:000102']);
    p.unsubscribe(4, 'room');
    await p.next((e) => e.kind === 'reply' && e.id === 4);
    expect(protocols).toEqual(['sockwire.pubsub.v1']);
    expect(seenByApp).toEqual([]);
    // A frame that is not v1 still closes the connection (1002), unseen by the application.
    p.ws.send('not json');
    expect((await p.closed).code).toBe(1002);
    expect(seenByApp).toEqual([]);
  });

  it('a connection without the subprotocol on the same server delivers its messages to the application as usual', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', pubsub: true });
    servers.push(wss);
    await new Promise((r) => wss.once('listening', r));
    const got = new Promise<string>((resolve) => wss.on('connection', (ws) => ws.on('message', (data) => resolve(String(data)))));
    const p = await v1Peer((wss.address() as { port: number }).port, []);
    peers.push(p.ws);
    p.ws.send('hello');
    expect(await got).toBe('hello');
  });
});
