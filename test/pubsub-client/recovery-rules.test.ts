// The client's rules of docs/pubsub-v1.md "What a client does", frame by frame against a
// scripted server: duplicates dropped, a jump in offsets repaired with subscribe + since (one
// repair at a time), a new epoch answered by resync, resubscription with since on reconnect,
// 'unavailable' retried with the same since, refusals and broken servers reported.
import { afterEach, describe, expect, it } from 'vitest';
import { TopicClient, TopicError, type TopicClientEvents, type TopicMessage, type WebSocketConstructor } from '../../src/pubsub-client/topic-client.js';
import { WebSocket } from '../../src/web/index.js';
import { recorder, scriptedServer, type ScriptedServer, type Sent } from './scripted-server.js';

const servers: ScriptedServer[] = [];
const clients: TopicClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function server(options?: { selectProtocol?: boolean }): Promise<ScriptedServer> {
  const s = await scriptedServer(options);
  servers.push(s);
  return s;
}

function client(url: string | string[]): TopicClient {
  const c = new TopicClient(url, { WebSocket: WebSocket as unknown as WebSocketConstructor, backoff: { min: 20, max: 200, jitter: 0.5 } });
  clients.push(c);
  return c;
}

const isSub = (topic: string) => (s: Sent) => s.kind === 'request' && s.op === 'subscribe' && s.topic === topic;
const offsets = (ms: TopicMessage[]) => ms.map((m) => Number(m.position!.offset));

describe('TopicClient against a scripted server', () => {
  it('drops duplicates, repairs a gap with one subscribe since the last position, flags what the repair delivered', async () => {
    const s = await server();
    const c = client(s.url);
    const got = recorder<TopicMessage>();
    const gaps: Array<TopicClientEvents['gap']> = [];
    c.on('gap', (g) => gaps.push(g));
    const subscribed = c.subscribe('t', (m) => got.push(m));
    const conn = await s.connection(0);
    const first = (await conn.next(isSub('t'))) as Extract<Sent, { kind: 'request' }>;
    expect(first.since).toBeUndefined();
    conn.reply({ op: 'subscribed', id: first.id, topic: 't', status: 'live', offset: '0', epoch: 'e1' });
    expect(await subscribed).toEqual({ topic: 't', status: 'live', recovered: 0, position: { offset: '0', epoch: 'e1' } });
    conn.message('t', 'm1', 1);
    conn.message('t', 'm2', 2);
    conn.message('t', 'm2 again', 2);
    conn.message('t', 'm1 again', 1);
    conn.message('t', 'm5', 5); // 3 and 4 missed
    const repair = (await conn.next(isSub('t'), 1)) as Extract<Sent, { kind: 'request' }>;
    expect(repair.since).toEqual({ offset: '2', epoch: 'e1' });
    conn.message('t', 'm6', 6); // live, crossing the repair: dropped, no second repair
    for (const n of [3, 4, 5, 6]) conn.message('t', `m${n}`, n);
    conn.reply({ op: 'subscribed', id: repair.id, topic: 't', status: 'recovered', recovered: 4, offset: '6', epoch: 'e1' });
    conn.message('t', 'm7', 7);
    await got.until((xs) => xs.length >= 7);
    expect(offsets(got.items)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(got.items.map((m) => m.data)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    expect(got.items.map((m) => m.recovered)).toEqual([false, false, true, true, true, true, false]);
    expect(gaps).toEqual([{ topic: 't', kept: { offset: '2', epoch: 'e1' }, received: { offset: '5', epoch: 'e1' } }]);
    expect(conn.sent.filter(isSub('t'))).toHaveLength(2);
    expect(c.stats).toMatchObject({ delivered: 7, recovered: 4, duplicates: 2, gaps: 1, resyncs: 0 });
    expect(c.position('t')).toEqual({ offset: '7', epoch: 'e1' });
  });

  it('a message from a new epoch: subscribe since the old position, resync reported, then the new epoch goes on', async () => {
    const s = await server();
    const c = client(s.url);
    const got = recorder<TopicMessage>();
    const resyncs: Array<TopicClientEvents['resync']> = [];
    c.on('resync', (r) => resyncs.push(r));
    void c.subscribe('t', (m) => got.push(m));
    const conn = await s.connection(0);
    const sub = (await conn.next(isSub('t'))) as Extract<Sent, { kind: 'request' }>;
    conn.reply({ op: 'subscribed', id: sub.id, topic: 't', status: 'live', offset: '8', epoch: 'old' });
    conn.message('t', 'a', 9, 'old');
    conn.message('t', 'b', 1, 'new');
    const repair = (await conn.next(isSub('t'), 1)) as Extract<Sent, { kind: 'request' }>;
    expect(repair.since).toEqual({ offset: '9', epoch: 'old' });
    conn.reply({ op: 'subscribed', id: repair.id, topic: 't', status: 'resync', reason: 'epoch', offset: '1', epoch: 'new' });
    conn.message('t', 'c', 2, 'new');
    await got.until((xs) => xs.length >= 2);
    expect(got.items.map((m) => [m.data, m.position])).toEqual([
      ['a', { offset: '9', epoch: 'old' }],
      ['c', { offset: '2', epoch: 'new' }],
    ]);
    expect(resyncs).toEqual([{ topic: 't', status: 'resync', reason: 'epoch', recovered: 0, position: { offset: '1', epoch: 'new' } }]);
  });

  it("a catch-up answered 'trimmed' after the live messages it asked about arrived without a jump is a recovery; with a jump it stays a resync", async () => {
    const s = await server();
    const c = client(s.url);
    const got = recorder<TopicMessage>();
    const resyncs: Array<TopicClientEvents['resync']> = [];
    c.on('resync', (r) => resyncs.push(r));
    void c.subscribe('t', (m) => got.push(m));
    const conn = await s.connection(0);
    const sub = (await conn.next(isSub('t'))) as Extract<Sent, { kind: 'request' }>;
    conn.reply({ op: 'subscribed', id: sub.id, topic: 't', status: 'live', offset: '0', epoch: 'e1' });
    for (const n of [1, 2, 3]) conn.message('t', `m${n}`, n);
    await got.until((xs) => xs.length >= 3);
    // The application asks to catch up from 3 while 4..6 are on their way: the server, whose
    // history no longer starts at 4, answers 'trimmed' at 6 — after writing 4..6 on this socket.
    const caught = c.catchUp('t');
    const ask = (await conn.next(isSub('t'), 1)) as Extract<Sent, { kind: 'request' }>;
    expect(ask.since).toEqual({ offset: '3', epoch: 'e1' });
    for (const n of [4, 5, 6]) conn.message('t', `m${n}`, n);
    conn.reply({ op: 'subscribed', id: ask.id, topic: 't', status: 'resync', reason: 'trimmed', offset: '6', epoch: 'e1' });
    expect(await caught).toEqual({ topic: 't', status: 'recovered', recovered: 0, position: { offset: '6', epoch: 'e1' } });
    conn.message('t', 'm7', 7);
    await got.until((xs) => xs.length >= 7);
    expect(offsets(got.items)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(resyncs).toEqual([]);
    expect(c.stats.resyncs).toBe(0);

    // The same answer when 8 never came (9 and 10, arriving while the request is pending, are dropped): a resync.
    const again = c.catchUp('t');
    const ask2 = (await conn.next(isSub('t'), conn.sent.indexOf(ask) + 1)) as Extract<Sent, { kind: 'request' }>;
    expect(ask2.since).toEqual({ offset: '7', epoch: 'e1' });
    for (const n of [9, 10]) conn.message('t', `m${n}`, n);
    conn.reply({ op: 'subscribed', id: ask2.id, topic: 't', status: 'resync', reason: 'trimmed', offset: '10', epoch: 'e1' });
    expect(await again).toEqual({ topic: 't', status: 'resync', reason: 'trimmed', recovered: 0, position: { offset: '10', epoch: 'e1' } });
    expect(resyncs).toHaveLength(1);
    conn.message('t', 'm11', 11);
    await got.until((xs) => xs.length >= 8);
    expect(offsets(got.items)).toEqual([1, 2, 3, 4, 5, 6, 7, 11]);
  });

  it('on reconnect: every topic again with since, then the publishes queued meanwhile; a publish in flight fails as disconnected', async () => {
    const s = await server();
    const c = client(s.url);
    void c.subscribe('a');
    void c.subscribe('b');
    const conn = await s.connection(0);
    const [sa, sb] = (await Promise.all([conn.next(isSub('a')), conn.next(isSub('b'))])) as Array<Extract<Sent, { kind: 'request' }>>;
    conn.reply({ op: 'subscribed', id: sa!.id, topic: 'a', status: 'live', offset: '0', epoch: 'e1' });
    conn.reply({ op: 'subscribed', id: sb!.id, topic: 'b', status: 'live', offset: '40', epoch: 'e1' });
    for (const n of [1, 2, 3]) conn.message('a', `a${n}`, n);
    const inFlight = c.publish('a', 'never answered');
    await conn.next((x) => x.kind === 'publish');
    let queued: Promise<unknown> | null = null;
    c.on('close', () => {
      queued ??= c.publish('b', new Uint8Array([1, 2, 3]));
    });
    // The client has seen a3 once its position says so.
    await new Promise<void>((resolve) => {
      const check = (): void => (c.position('a')?.offset === '3' ? resolve() : void setImmediate(check));
      check();
    });
    conn.ws.terminate();
    await expect(inFlight).rejects.toMatchObject({ name: 'TopicError', code: 'disconnected', topic: 'a' });
    const again = await s.connection(1);
    await again.next((x) => x.kind === 'publish');
    const [ra, rb, pub] = again.sent;
    expect(ra).toMatchObject({ op: 'subscribe', topic: 'a', since: { offset: '3', epoch: 'e1' } });
    expect(rb).toMatchObject({ op: 'subscribe', topic: 'b', since: { offset: '40', epoch: 'e1' } });
    expect(pub).toMatchObject({ kind: 'publish', topic: 'b', binary: true });
    expect([...(pub as { payload: Buffer }).payload]).toEqual([1, 2, 3]);
    again.reply({ op: 'published', id: (pub as { id: number }).id, topic: 'b', offset: '41', epoch: 'e1' });
    await expect(queued).resolves.toEqual({ topic: 'b', position: { offset: '41', epoch: 'e1' } });
    expect(c.stats.reconnects).toBe(1);
  });

  it("'unavailable' is retried with the same since; the subscribe promise waits for the answer that works", async () => {
    const s = await server();
    const c = client(s.url);
    const errors: TopicError[] = [];
    c.on('error', (e) => errors.push(e));
    const result = c.subscribe('t', undefined, { since: { offset: '12', epoch: 'e1' } });
    const conn = await s.connection(0);
    const first = (await conn.next(isSub('t'))) as Extract<Sent, { kind: 'request' }>;
    expect(first.since).toEqual({ offset: '12', epoch: 'e1' });
    conn.reply({ op: 'error', id: first.id, topic: 't', code: 'unavailable', message: 'history could not be read' });
    const second = (await conn.next(isSub('t'), 1)) as Extract<Sent, { kind: 'request' }>;
    expect(second.since).toEqual({ offset: '12', epoch: 'e1' });
    conn.message('t', 'x', 13);
    conn.reply({ op: 'subscribed', id: second.id, topic: 't', status: 'recovered', recovered: 1, offset: '13', epoch: 'e1' });
    expect(await result).toMatchObject({ status: 'recovered', recovered: 1, position: { offset: '13', epoch: 'e1' } });
    expect(errors.map((e) => e.code)).toEqual(['unavailable']);
  });

  it('a refused subscribe rejects and leaves no subscription; a refused publish rejects with its code', async () => {
    const s = await server();
    const c = client(s.url);
    const sub = c.subscribe('secret');
    const conn = await s.connection(0);
    const req = (await conn.next(isSub('secret'))) as Extract<Sent, { kind: 'request' }>;
    conn.reply({ op: 'error', id: req.id, topic: 'secret', code: 'forbidden', message: 'no' });
    await expect(sub).rejects.toMatchObject({ code: 'forbidden', topic: 'secret' });
    expect(c.subscriptions).toEqual([]);
    const pub = c.publish('t', 'x');
    const p = (await conn.next((x) => x.kind === 'publish')) as Extract<Sent, { kind: 'publish' }>;
    conn.reply({ op: 'error', id: p.id, topic: 't', code: 'dropped', message: 'broker unreachable' });
    await expect(pub).rejects.toBeInstanceOf(TopicError);
    await expect(pub).rejects.toMatchObject({ code: 'dropped' });
    await expect(c.subscribe('')).rejects.toMatchObject({ code: 'bad-request' });
    await expect(c.publish('x'.repeat(256), 'x')).rejects.toMatchObject({ code: 'bad-request' });
  });

  it('a server that does not select the subprotocol fails that attempt and the next URL is tried', async () => {
    const wrong = await server({ selectProtocol: false });
    const right = await server();
    const c = client([wrong.url, right.url]);
    const closes: Array<TopicClientEvents['close']> = [];
    const reconnects: Array<TopicClientEvents['reconnect']> = [];
    c.on('close', (e) => closes.push(e));
    c.on('reconnect', (e) => reconnects.push(e));
    const opened = new Promise<TopicClientEvents['open']>((resolve) => c.on('open', resolve));
    // The WHATWG WebSocket fails a connection whose server ignored the offered subprotocol
    // (as Chromium does); the client's own check covers constructors that let it open.
    expect(await opened).toEqual({ url: right.url, reconnected: false });
    expect(closes).toEqual([{ code: 1006, reason: '', willReconnect: true }]);
    expect(reconnects).toHaveLength(1);
    expect(reconnects[0]!.attempt).toBe(1);
    expect(reconnects[0]!.delay).toBeGreaterThanOrEqual(10); // min 20 less up to half of it
    expect(reconnects[0]!.delay).toBeLessThanOrEqual(20);
  });

  it('a WebSocket that opens without the subprotocol is given up with a protocol error; one that never opens is abandoned after openTimeout', async () => {
    // Stand-ins for constructors that let such connections through (the WHATWG one does not).
    const made: Array<{ url: string; closed: boolean }> = [];
    class Opens extends EventTarget {
      binaryType = 'blob';
      readyState = 0;
      protocol = '';
      record = { url: '', closed: false };
      constructor(url: string, readonly mode: 'opens' | 'hangs') {
        super();
        this.record.url = url;
        made.push(this.record);
        if (mode === 'opens') {
          setImmediate(() => {
            this.readyState = 1;
            this.dispatchEvent(new Event('open'));
          });
        }
      }
      send(): void {}
      close(): void {
        this.record.closed = true;
        this.readyState = 3;
      }
    }
    const errors: TopicError[] = [];
    const opensWrong = new TopicClient('ws://stub/', { WebSocket: class extends Opens { constructor(u: string) { super(u, 'opens'); } } as unknown as WebSocketConstructor, backoff: { min: 5, max: 10 } });
    clients.push(opensWrong);
    opensWrong.on('error', (e) => errors.push(e));
    const gaveUp = new Promise((resolve) => opensWrong.on('close', resolve));
    expect(await gaveUp).toEqual({ code: 1006, reason: 'subprotocol not selected', willReconnect: true });
    expect(errors[0]).toMatchObject({ code: 'protocol' });
    expect(made[0]!.closed).toBe(true);
    const hangs = new TopicClient('ws://stub/', { WebSocket: class extends Opens { constructor(u: string) { super(u, 'hangs'); } } as unknown as WebSocketConstructor, openTimeout: 30, backoff: { min: 5, max: 10 } });
    clients.push(hangs);
    const timedOut = new Promise((resolve) => hangs.on('close', resolve));
    expect(await timedOut).toEqual({ code: 1006, reason: 'open timeout', willReconnect: true });
    expect(hangs.connected).toBe(false);
  });

  it('a frame that is not v1 from the server is an error and a reconnect, never a crash', async () => {
    const s = await server();
    const c = client(s.url);
    const errors: TopicError[] = [];
    c.on('error', (e) => errors.push(e));
    void c.subscribe('t');
    const conn = await s.connection(0);
    conn.ws.send(Buffer.from([0x07, 0, 0]));
    const again = await s.connection(1);
    await again.next(isSub('t'));
    expect(errors.map((e) => e.code)).toEqual(['protocol']);
    conn.ws.terminate();
  });
});
