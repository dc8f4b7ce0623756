// History and recovery on one process (the in-process broker), over real sockets: the server
// API (`history`, `socket.subscribe(topic, { since })`, `wss.readHistory`) with plain `ws`
// clients, and sockwire.pubsub.v1 exactly as docs/pubsub-v1.md writes it.
import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { LocalBroker } from '../../src/pubsub/broker.js';
import type { SubscribeResult } from '../../src/pubsub/catch-up.js';
import { PUBSUB_V1 } from '../../src/pubsub/subprotocol.js';
import { connect, type Client } from './helpers.js';
import { untilMessages, v1Peer, type V1Peer } from './v1-peer.js';

const servers: WebSocketServer[] = [];
const peers: WS[] = [];
afterEach(async () => {
  for (const p of peers.splice(0)) p.terminate();
  for (const wss of servers.splice(0)) {
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});

async function serve(options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<{ wss: WebSocketServer; port: number; accepted: () => Promise<WebSocket> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', ...options });
  servers.push(wss);
  await new Promise((r) => wss.once('listening', r));
  return { wss, port: (wss.address() as { port: number }).port, accepted: () => new Promise((r) => wss.once('connection', r)) };
}

async function plainClient(port: number, accepted: () => Promise<WebSocket>): Promise<[Client, WebSocket]> {
  const a = accepted();
  const c = await connect(port);
  peers.push(c.ws);
  return [c, await a];
}

async function peer(port: number, protocols?: string[]): Promise<V1Peer> {
  const p = await v1Peer(port, protocols);
  peers.push(p.ws);
  return p;
}

describe('server API: history rules, socket.subscribe(topic, { since }), wss.readHistory', () => {
  it('a client that comes back with its last position gets what it missed, in order, then live messages', async () => {
    const s = await serve({ history: { 'chat:*': { size: 100 } } });
    const [c1, ws1] = await plainClient(s.port, s.accepted);
    const first = await ws1.subscribe('chat:1', {});
    expect(first).toMatchObject({ status: 'live', recovered: 0, position: { offset: 0n } });
    for (let i = 1; i <= 3; i++) s.wss.publish('chat:1', `m${i}`);
    expect(await c1.until(3)).toEqual(['m1', 'm2', 'm3']);
    c1.ws.terminate();
    await new Promise((r) => ws1.once('close', r));
    for (let i = 4; i <= 7; i++) s.wss.publish('chat:1', `m${i}`); // nobody listening
    const [c2, ws2] = await plainClient(s.port, s.accepted);
    const result = await ws2.subscribe('chat:1', { since: { offset: 3n, epoch: first.position!.epoch } });
    expect(result).toEqual({ status: 'recovered', recovered: 4, position: { offset: 7n, epoch: first.position!.epoch } });
    s.wss.publish('chat:1', 'm8');
    expect(await c2.until(5)).toEqual(['m4', 'm5', 'm6', 'm7', 'm8']);
  });

  it('messages published while the catch-up runs are held and merged: no gap, no duplicate', async () => {
    const s = await serve({ history: { room: { size: 1000 } } });
    for (let i = 1; i <= 250; i++) s.wss.publish('room', `m${i}`); // more than one history page
    const epoch = (await s.wss.readHistory('room', { limit: 0 })).epoch as string;
    const [c, ws] = await plainClient(s.port, s.accepted);
    const pending = ws.subscribe('room', { since: { offset: 100n, epoch } });
    // Published after the subscription is made, before the history is read: both hold them.
    for (let i = 251; i <= 260; i++) s.wss.publish('room', `m${i}`);
    const result = await pending;
    for (let i = 261; i <= 270; i++) s.wss.publish('room', `m${i}`);
    expect(result.status).toBe('recovered');
    const got = await c.until(170);
    expect(got).toEqual(Array.from({ length: 170 }, (_, i) => `m${101 + i}`));
    expect(result.recovered + 0).toBeGreaterThanOrEqual(150);
  });

  it('cannot recover: another epoch, an offset older than the history, a topic without history', async () => {
    const s = await serve({ history: { small: { size: 5 } } });
    for (let i = 1; i <= 20; i++) s.wss.publish('small', `m${i}`);
    const epoch = (await s.wss.readHistory('small', { limit: 0 })).epoch as string;
    const [c, ws] = await plainClient(s.port, s.accepted);
    const trimmed = await ws.subscribe('small', { since: { offset: 3n, epoch } });
    expect(trimmed).toEqual({ status: 'resync', reason: 'trimmed', recovered: 0, position: { offset: 20n, epoch } });
    s.wss.publish('small', 'after');
    expect(await c.until(1)).toEqual(['after']); // live from the top, nothing old
    ws.unsubscribe('small');
    const other = await ws.subscribe('small', { since: { offset: 3n, epoch: 'not-this-one' } });
    expect(other).toMatchObject({ status: 'resync', reason: 'epoch', position: { offset: 21n, epoch } });
    const none = await ws.subscribe('plain', { since: { offset: 1n, epoch } });
    expect(none).toEqual({ status: 'resync', reason: 'no-history', recovered: 0, position: null });
    expect(ws.isSubscribed('plain')).toBe(true);
    expect(await ws.subscribe('plain', {})).toMatchObject({ status: 'failed', reason: 'already-subscribed' });
  });

  it('wss.readHistory pages through a topic and says when since cannot be continued from', async () => {
    const s = await serve({ history: { 'news:*': { size: 10 } } });
    for (let i = 1; i <= 15; i++) s.wss.publish('news:x', i % 2 ? `t${i}` : Buffer.from([i]));
    const all = await s.wss.readHistory('news:x', { limit: 100 });
    if (all.status !== 'ok') throw new Error('expected ok');
    expect(all.top).toBe(15n);
    expect(all.messages.map((m) => m.position.offset)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i + 6)));
    expect(all.messages[0]).toMatchObject({ binary: true, data: Buffer.from([6]) });
    expect(all.messages[1]).toMatchObject({ binary: false, data: 't7' });
    const page = await s.wss.readHistory('news:x', { since: { offset: 8n, epoch: all.epoch }, limit: 3 });
    expect(page.status === 'ok' && page.messages.map((m) => m.position.offset)).toEqual([9n, 10n, 11n]);
    expect(await s.wss.readHistory('news:x', { since: { offset: 2n, epoch: all.epoch } })).toMatchObject({ status: 'resync', reason: 'trimmed' });
    expect(await s.wss.readHistory('news:x', { since: { offset: 2n, epoch: 'x' } })).toMatchObject({ status: 'resync', reason: 'epoch' });
    expect(await s.wss.readHistory('other')).toMatchObject({ status: 'resync', reason: 'no-history' });
  });

  it('socket.publish on a history topic still leaves the sender out; publish order is kept', async () => {
    const s = await serve({ history: { room: { size: 10 } } });
    const [ca, a] = await plainClient(s.port, s.accepted);
    const [cb, b] = await plainClient(s.port, s.accepted);
    a.subscribe('room');
    b.subscribe('room');
    expect(a.publish('room', 'from a')).toBe(1);
    b.publish('room', 'from b');
    s.wss.publish('room', 'from server');
    expect(await ca.until(2)).toEqual(['from b', 'from server']);
    expect(await cb.until(2)).toEqual(['from a', 'from server']);
  });

  it('wss.history adds and removes rules at run time; a broker without history refuses', async () => {
    const s = await serve();
    s.wss.history('late', { size: 2 });
    s.wss.publish('late', 'x');
    expect(await s.wss.readHistory('late')).toMatchObject({ status: 'ok', top: 1n });
    s.wss.history('late', null);
    expect(await s.wss.readHistory('late')).toMatchObject({ status: 'resync', reason: 'no-history' });
    const bare = new LocalBroker();
    (bare as { setHistory?: unknown }).setHistory = undefined; // as a Broker written before history
    const t = await serve({ broker: bare });
    expect(() => t.wss.history('x', { size: 1 })).toThrow(/keeps no history/);
  });
});

describe('sockwire.pubsub.v1 (docs/pubsub-v1.md)', () => {
  it('is chosen when offered and pubsub is on; not without the option', async () => {
    const s = await serve({ pubsub: true });
    const p = await peer(s.port, ['other', PUBSUB_V1]);
    expect(p.ws.protocol).toBe(PUBSUB_V1);
    const t = await serve();
    const q = await peer(t.port, ['other', PUBSUB_V1]);
    expect(q.ws.protocol).toBe('other');
  });

  it('subscribe, publish with ack, messages carrying topic/offset/epoch; the publisher gets its own', async () => {
    const s = await serve({ pubsub: true, history: { 'chat:*': { size: 50 } } });
    const p = await peer(s.port);
    p.subscribe(1, 'chat:1');
    const sub = await p.next((e) => e.kind === 'reply' && e.id === 1);
    expect(sub).toMatchObject({ op: 'subscribed', topic: 'chat:1', status: 'live', offset: '0' });
    const epoch = (sub as { epoch: string }).epoch;
    expect(epoch).toMatch(/^[A-Za-z0-9_-]{11}$/);
    p.publish(7, 'chat:1', 'hello');
    p.publish(0, 'chat:1', Buffer.from([1, 2, 3]));
    const msgs = await untilMessages(p, 'chat:1', 2);
    expect(msgs).toEqual([
      { kind: 'message', topic: 'chat:1', text: 'hello', binary: false, offset: '1', epoch },
      { kind: 'message', topic: 'chat:1', text: 'bin:010203', binary: true, offset: '2', epoch },
    ]);
    expect(await p.next((e) => e.kind === 'reply' && e.id === 7)).toEqual({ kind: 'reply', op: 'published', id: 7, topic: 'chat:1', offset: '1', epoch });
    // A topic without history: messages carry no position, replies null positions.
    p.subscribe(2, 'plain');
    expect(await p.next((e) => e.kind === 'reply' && e.id === 2)).toMatchObject({ status: 'live', offset: null, epoch: null });
    s.wss.publish('plain', 'p1');
    expect((await untilMessages(p, 'plain', 1))[0]).toMatchObject({ text: 'p1', offset: null, epoch: null });
    p.unsubscribe(3, 'plain');
    expect(await p.next((e) => e.kind === 'reply' && e.id === 3)).toEqual({ kind: 'reply', op: 'unsubscribed', id: 3, topic: 'plain' });
    expect(s.wss.subscriberCount('plain')).toBe(0);
  });

  it('reconnect with since: recovered messages, then the reply, then live — consecutive offsets', async () => {
    const s = await serve({ pubsub: true, history: { feed: { size: 500 } } });
    const a = await peer(s.port);
    a.subscribe(1, 'feed');
    const r1 = (await a.next((e) => e.kind === 'reply' && e.id === 1)) as { epoch: string };
    for (let i = 1; i <= 5; i++) s.wss.publish('feed', `m${i}`);
    await untilMessages(a, 'feed', 5);
    a.ws.terminate();
    for (let i = 6; i <= 300; i++) s.wss.publish('feed', `m${i}`);
    const b = await peer(s.port);
    b.subscribe(9, 'feed', { offset: '5', epoch: r1.epoch });
    const reply = await b.next((e) => e.kind === 'reply' && e.id === 9);
    s.wss.publish('feed', 'm301');
    const msgs = await untilMessages(b, 'feed', 296);
    expect(reply).toMatchObject({ status: 'recovered', recovered: 295, offset: '300', epoch: r1.epoch });
    expect(msgs.map((m) => m.offset)).toEqual(Array.from({ length: 296 }, (_, i) => String(6 + i)));
    expect(msgs.map((m) => m.text)).toEqual(Array.from({ length: 296 }, (_, i) => `m${6 + i}`));
    const replyAt = b.events.indexOf(reply);
    expect(b.events.slice(0, replyAt).filter((e) => e.kind === 'message')).toHaveLength(295);
  });

  it('resync replies: another epoch, trimmed history, no history', async () => {
    const s = await serve({ pubsub: true, history: { t: { size: 3 } } });
    for (let i = 1; i <= 10; i++) s.wss.publish('t', `m${i}`);
    const p = await peer(s.port);
    p.subscribe(1, 't', { offset: '2', epoch: 'gone' });
    expect(await p.next((e) => e.kind === 'reply' && e.id === 1)).toMatchObject({ op: 'subscribed', status: 'resync', reason: 'epoch', offset: '10' });
    const epoch = (p.events[0] as { epoch: string }).epoch;
    p.unsubscribe(2, 't');
    p.subscribe(3, 't', { offset: '2', epoch });
    expect(await p.next((e) => e.kind === 'reply' && e.id === 3)).toMatchObject({ status: 'resync', reason: 'trimmed', offset: '10', epoch });
    p.subscribe(4, 'none', { offset: '2', epoch });
    expect(await p.next((e) => e.kind === 'reply' && e.id === 4)).toMatchObject({ status: 'resync', reason: 'no-history', offset: null });
    expect(p.messages()).toEqual([]);
  });

  it('a gap repair: subscribing again with since over a live subscription re-sends from since, then goes on live', async () => {
    const s = await serve({ pubsub: true, history: { g: { size: 100 } } });
    const p = await peer(s.port);
    p.subscribe(1, 'g');
    const epoch = ((await p.next((e) => e.kind === 'reply' && e.id === 1)) as { epoch: string }).epoch;
    for (let i = 1; i <= 6; i++) s.wss.publish('g', `m${i}`);
    await untilMessages(p, 'g', 6);
    // Pretend offsets 3…6 were missed: ask again from 2; they come again, nothing else twice.
    p.subscribe(2, 'g', { offset: '2', epoch });
    expect(await p.next((e) => e.kind === 'reply' && e.id === 2)).toMatchObject({ status: 'recovered', recovered: 4, offset: '6' });
    s.wss.publish('g', 'm7');
    const msgs = await untilMessages(p, 'g', 11);
    expect(msgs.slice(6).map((m) => m.offset)).toEqual(['3', '4', '5', '6', '7']);
    p.subscribe(3, 'g');
    expect(await p.next((e) => e.kind === 'reply' && e.id === 3)).toMatchObject({ op: 'error', code: 'already-subscribed' });
  });

  it('errors: bad-request, forbidden (authorize, sync and async), limit; order of publishes kept behind an async verdict', async () => {
    const s = await serve({
      pubsub: {
        maxTopics: 2,
        authorize: (_socket: WebSocket, op: string, topic: string) => (topic.startsWith('slow:') ? new Promise<boolean>((r) => setTimeout(() => r(true), 20)) : !(op === 'publish' && topic === 'ro')),
      },
    });
    const p = await peer(s.port);
    p.ws.send(JSON.stringify({ op: 'subscribe', id: 1, topic: '' }));
    expect(await p.next((e) => e.kind === 'reply' && e.id === 1)).toMatchObject({ op: 'error', code: 'bad-request' });
    p.ws.send(JSON.stringify({ op: 'subscribe', id: 2, topic: 'x', since: { offset: '-1', epoch: 'e' } }));
    expect(await p.next((e) => e.kind === 'reply' && e.id === 2)).toMatchObject({ op: 'error', code: 'bad-request', topic: 'x' });
    p.subscribe(3, 'ro');
    p.publish(4, 'ro', 'nope');
    expect(await p.next((e) => e.kind === 'reply' && e.id === 4)).toMatchObject({ op: 'error', code: 'forbidden', topic: 'ro' });
    p.subscribe(5, 'slow:a');
    p.subscribe(6, 'three');
    expect(await p.next((e) => e.kind === 'reply' && e.id === 6)).toMatchObject({ op: 'error', code: 'limit' });
    // Publishes to slow:a wait for their verdicts but keep their order.
    for (let i = 0; i < 5; i++) p.publish(0, 'slow:a', `s${i}`);
    const got = await untilMessages(p, 'slow:a', 5);
    expect(got.map((m) => m.text)).toEqual(['s0', 's1', 's2', 's3', 's4']);
    expect(p.messages('ro')).toEqual([]);
  });

  it('a frame that is not v1 closes the connection with 1002', async () => {
    const s = await serve({ pubsub: true });
    const p = await peer(s.port);
    p.ws.send('not json');
    expect((await p.closed).code).toBe(1002);
    const q = await peer(s.port);
    q.ws.send(Buffer.from([9, 0, 0]));
    expect((await q.closed).code).toBe(1002);
    const r = await peer(s.port);
    r.ws.send(JSON.stringify({ op: 'subscribe', id: 0, topic: 'x' }));
    expect((await r.closed).code).toBe(1002);
  });

  it('a plain subscriber and a v1 subscriber of one topic each get their own framing of one publish', async () => {
    const s = await serve({ pubsub: true, history: { mix: { size: 10 } } });
    const p = await peer(s.port);
    p.subscribe(1, 'mix');
    await p.next((e) => e.kind === 'reply' && e.id === 1);
    const [c, ws] = await plainClient(s.port, s.accepted);
    ws.subscribe('mix');
    s.wss.publish('mix', 'both');
    expect(await c.until(1)).toEqual(['both']);
    expect((await untilMessages(p, 'mix', 1))[0]).toMatchObject({ text: 'both', offset: '1' });
    const res: SubscribeResult = await ws.subscribe('mix', { since: { offset: 0n, epoch: (p.events[0] as { epoch: string }).epoch } });
    expect(res.status).toBe('recovered');
    expect(await c.until(2)).toEqual(['both', 'both']);
  });
});
