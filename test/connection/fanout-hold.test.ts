// A socket in the middle of a fragmented message of its own (`send(…, { fin: false })`) holds
// what is published or broadcast meanwhile and writes it right after its final fragment: never
// spliced into the open message, never skipped. Held deliveries count in bufferedAmount, in
// the `slow` policy and against maxBufferedAmount; a socket closing first drops and counts them.
import { describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { connect, trackPeers, type Client, type Server } from '../pubsub/helpers.js';

const { server, client } = trackPeers();
const hex = (data: string | Buffer): string => `bin:${Buffer.from(data).toString('hex')}`;
const closed = (ws: WebSocket): Promise<number> => new Promise((resolve) => ws.once('close', (code: number) => resolve(code)));

const MODES = [
  ['plain', { perMessageDeflate: false }],
  ['shared compression', { perMessageDeflate: { serverNoContextTakeover: true } }],
  ['own compression (context takeover)', { perMessageDeflate: true }],
] as const;

describe('fan-out held behind an open fragmented message', () => {
  for (const [mode, clientOptions] of MODES) {
    it(`goes right after the final fragment, in the order called (${mode})`, async () => {
      const s = await server({ perMessageDeflate: { threshold: 0 } });
      const [busyClient, busy] = await client(s, clientOptions);
      const [calmClient, calm] = await client(s, clientOptions);
      busy.subscribe('t');
      calm.subscribe('t');
      const big = (tag: string): string => `${tag} ${'lorem ipsum '.repeat(300)}`;
      busy.send('part1 ', { fin: false });
      expect(s.wss.publish('t', big('P1'))).toBe(2);
      expect(s.wss.broadcast(big('B1'))).toBe(2);
      expect(calm.publish('t', 'P2 from calm')).toBe(1);
      busy.send('part2 ', { fin: false });
      expect(s.wss.publish('t', 'P3')).toBe(2);
      // Held, so counted in bufferedAmount until the message is finished.
      expect(busy.bufferedAmount).toBeGreaterThanOrEqual(Buffer.byteLength(big('P1') + big('B1') + 'P2 from calm' + 'P3'));
      busy.send('part3', { fin: true });
      s.wss.publish('t', 'P4');
      busy.send('direct after');
      expect(await busyClient.until(7)).toEqual(['part1 part2 part3', big('P1'), big('B1'), 'P2 from calm', 'P3', 'P4', 'direct after']);
      expect(await calmClient.until(4)).toEqual([big('P1'), big('B1'), 'P3', 'P4']);
      expect(s.wss.topicStats('t')).toEqual({ messages: 4, delivered: 7, skipped: 0, terminated: 0, dropped: 0 });
      // Everything held was written: nothing is left counted.
      await new Promise<void>((resolve) => busy.send('', () => resolve()));
      expect(busy.bufferedAmount).toBe(0);
    });
  }

  it('a fragmented message sent from Blobs: fan-outs queued behind them are held, not spliced in', async () => {
    const s = await server({ perMessageDeflate: { threshold: 0 } });
    const [busyClient, busy] = await client(s, { perMessageDeflate: { serverNoContextTakeover: true } });
    busy.subscribe('t');
    // Queued behind the Blob: the publish, then the final fragment. When the Blob's fragment
    // has gone, the message is open, so the publish waits for the final fragment.
    busy.send(new Blob(['first half, ']), { fin: false });
    s.wss.publish('t', 'P1');
    busy.send(Buffer.from('second half'), { fin: true });
    s.wss.publish('t', 'P2');
    busy.send(new Blob(['blob']));
    s.wss.publish('t', 'P3');
    expect(await busyClient.until(5)).toEqual([hex('first half, second half'), 'P1', 'P2', hex('blob'), 'P3']);
  });

  it('a socket that closes before finishing drops what it held, counted in dropped; the others get everything', async () => {
    const s = await server();
    const [busyClient, busy] = await client(s);
    const [calmClient, calm] = await client(s);
    busy.subscribe('t');
    calm.subscribe('t');
    busy.send('never finished', { fin: false });
    for (const m of ['one', 'two', 'three']) expect(s.wss.publish('t', m)).toBe(2);
    const gone = closed(busy);
    busyClient.ws.terminate();
    await gone;
    expect(s.wss.topicStats('t')).toMatchObject({ messages: 3, delivered: 6, dropped: 3 });
    expect(s.wss.hub.totals.dropped).toBe(3);
    // Never sent, still counted (as other sends queued and never transmitted are).
    expect(busy.bufferedAmount).toBeGreaterThanOrEqual('onetwothree'.length);
    expect(await calmClient.until(3)).toEqual(['one', 'two', 'three']);
    expect(busyClient.got).toEqual([]);
    void calm;
  });

  it("held bytes count toward the slow policy: past the socket's high-water mark, 'skip' leaves the rest out", async () => {
    const s = await server();
    const [busyClient, busy] = await client(s);
    const [calmClient, calm] = await client(s);
    busy.subscribe('t');
    calm.subscribe('t');
    const hwm = busy.socket!.writableHighWaterMark;
    const size = Math.ceil(hwm / 3) + 1;
    busy.send('open ', { fin: false });
    const sent: string[] = [];
    for (let i = 0; i < 6; i++) {
      const m = `${i}`.padEnd(size, '.');
      s.wss.publish('t', m, { slow: 'skip' });
      sent.push(m);
      // One at a time, so the calm subscriber's own buffer never fills.
      await calmClient.until(i + 1);
    }
    // Three held messages reach the high-water mark: the next three are skipped for it.
    expect(s.wss.topicStats('t')).toMatchObject({ messages: 6, delivered: 9, skipped: 3 });
    busy.send('close', { fin: true });
    expect(await busyClient.until(4)).toEqual(['open close', ...sent.slice(0, 3)]);
    expect(calmClient.got).toEqual(sent);
    void calm;
  });

  it("with slow: 'terminate', a socket whose held bytes reach its high-water mark is dropped", async () => {
    const s = await server();
    const [, busy] = await client(s);
    busy.subscribe('t');
    const size = busy.socket!.writableHighWaterMark;
    busy.send('open ', { fin: false });
    const gone = closed(busy);
    s.wss.publish('t', 'x'.repeat(size), { slow: 'terminate' });
    s.wss.publish('t', 'y', { slow: 'terminate' });
    expect(await gone).toBe(1006);
    expect(s.wss.hub.totals).toMatchObject({ terminated: 1, dropped: 1 });
  });

  it('held deliveries are bounded by maxBufferedAmount (the connection fails with 1013)', async () => {
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', maxBufferedAmount: 10_000 });
    await new Promise((r) => wss.once('listening', r));
    const accepted = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
    const c: Client = await connect((wss.address() as { port: number }).port);
    const ws = await accepted;
    try {
      const peerClosed = new Promise<number>((resolve) => c.ws.once('close', (code: number) => resolve(code)));
      ws.subscribe('t');
      ws.send('open ', { fin: false });
      expect(wss.publish('t', 'a'.repeat(4000))).toBe(1);
      expect(wss.publish('t', 'b'.repeat(4000))).toBe(1);
      // The third would pass the limit: refused, and the connection is failed.
      expect(wss.publish('t', 'c'.repeat(4000))).toBe(0);
      expect(await peerClosed).toBe(1013);
      expect(c.got).toEqual([]);
    } finally {
      c.ws.terminate();
      await new Promise((r) => wss.close(r));
    }
  });
});

describe('sendPrepared (a prepared message with a callback) is held the same way', () => {
  it('calls back once the held message was written, after the final fragment', async () => {
    const { PreparedMessage } = await import('../../src/index.js');
    const s: Server = await server();
    const [c, ws] = await client(s);
    const order: string[] = [];
    ws.send('a', { fin: false });
    const written = new Promise<void>((resolve) =>
      ws.sendPrepared(new PreparedMessage('prepared', false), (err) => {
        order.push(err ? `error ${err.message}` : 'prepared written');
        resolve();
      }),
    );
    ws.send('b', { fin: true }, () => order.push('final written'));
    await written;
    expect(order).toEqual(['final written', 'prepared written']);
    expect(await c.until(2)).toEqual(['ab', 'prepared']);
  });
});
