import { describe, expect, it } from 'vitest';
import WS from 'ws';
import { WebSocket } from '../../src/index.js';
import { Protocol } from '../../src/protocol/index.js';
import { until, waitFor } from '../server/helpers.js';
import { startRawServer } from '../websocket/raw-server.js';

/**
 * ws's `generateMask` client option: called once per frame sent, with the 4-byte buffer that
 * becomes that frame's masking key. The bytes on the wire are compared with ws's own client.
 */
describe('generateMask', () => {
  it('fills the masking key of every frame a client sends, as on ws (the bytes on the wire are the same)', async () => {
    /** What each connection sent after its handshake. */
    const wire: Buffer[][] = [];
    const raw = await startRawServer({
      parse: false,
      onUpgrade: ({ socket }) => {
        const chunks: Buffer[] = [];
        wire.push(chunks);
        socket.resume();
        socket.on('data', (c: Buffer) => chunks.push(c));
      },
    });
    // Text 'text' (6 + 4 bytes), binary 01 02 03 (6 + 3), ping 'p' (6 + 1), Close 1000 (6 + 2).
    const expected = 34;
    const received = (i: number): number => (wire[i] ?? []).reduce((n, c) => n + c.length, 0);
    try {
      for (const Client of [WS, WebSocket as unknown as typeof WS]) {
        let n = 0;
        const ws = new Client(raw.url, { perMessageDeflate: false, generateMask: (mask: Buffer) => void mask.fill(++n) });
        await waitFor(ws, 'open');
        ws.send('text');
        ws.send(Buffer.from([1, 2, 3]));
        ws.ping('p');
        ws.close(1000);
        await until(() => received(wire.length - 1) >= expected, 3000, 'the frames');
        // The raw server never answers the Close: drop the connection once it is on the wire.
        ws.terminate();
        await waitFor(ws, 'close');
        expect(n).toBe(4);
      }
    } finally {
      await raw.close();
    }
    const [theirs, ours] = wire.map((chunks) => Buffer.concat(chunks));
    expect(ours!.toString('hex')).toBe(theirs!.toString('hex'));
    // The first frame: FIN + text, masked, 4 bytes, key 01 01 01 01.
    expect(theirs!.subarray(0, 6).toString('hex')).toBe('818401010101');
  });

  it('is the core option of a client only: a server never masks', () => {
    const out: Buffer[] = [];
    const zero = (mask: Buffer): void => void mask.fill(0);
    const client = new Protocol({ role: 'client', generateMask: zero }, { write: (c) => out.push(Buffer.from(c)) });
    client.send('hi', false);
    expect(out[0]!.toString('hex')).toBe('818200000000' + Buffer.from('hi').toString('hex'));
    const server = new Protocol({ role: 'server', generateMask: zero }, { write: (c) => out.push(Buffer.from(c)) });
    server.send('hi', false);
    expect(out[1]!.toString('hex')).toBe('8102' + Buffer.from('hi').toString('hex'));
  });
});
