import { deflateRawSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Opcode, Protocol, type MessageCodec } from '../../src/protocol/index.js';
import { KEY, rawFrame } from '../framing/helpers.js';
import { pump, pumpAll, recordingProtocol } from './pair.js';
import { deferred, failingDecompress, zlibCodec } from './codecs.js';
import { closeOf, parseWire } from './wire.js';
import { binaryOfSize, boundedFragmentSize, chunking, chunksOf, message } from '../framing/arbitraries.js';

const big = (n: number, fill = 'a'): string => fill.repeat(n);

/** A compressed frame as a client would send it. */
function compressedFromClient(data: Buffer | string, opcode: number = Opcode.Text, fin = true): Buffer {
  return rawFrame({ opcode, rsv1: true, fin, payload: deflateRawSync(Buffer.from(data)), mask: KEY });
}

describe('outgoing compression', () => {
  it('compresses messages at or above compressThreshold, with RSV1 on the first frame only', () => {
    const c = recordingProtocol({ role: 'client', codec: zlibCodec(), compressThreshold: 100, fragmentSize: 8 });
    const noisy = binaryOfSize(1, 50).toString('hex'); // 100 chars that deflate poorly
    c.protocol.send(noisy, false);
    c.protocol.send(big(99), false);
    const frames = parseWire(c.out);
    const firstMessage = frames.slice(0, frames.findIndex((f) => f.fin) + 1);
    expect(firstMessage.length).toBeGreaterThan(1);
    expect(firstMessage.map((f) => f.rsv1)).toEqual([true, ...firstMessage.slice(1).map(() => false)]);
    expect(firstMessage.every((f) => f.masked)).toBe(true);
    const rest = frames.slice(firstMessage.length);
    expect(rest.every((f) => !f.rsv1)).toBe(true);
    expect(Buffer.concat(rest.map((f) => f.payload)).toString()).toBe(big(99));
  });

  it('compress: false and fin: false streaming sends are never compressed', () => {
    const codec = zlibCodec();
    const s = recordingProtocol({ role: 'server', codec, compressThreshold: 0 });
    s.protocol.send(big(5000), false, { compress: false });
    s.protocol.send(Buffer.alloc(5000), true, { fin: false });
    s.protocol.send(Buffer.alloc(5000), true, { fin: true });
    expect(parseWire(s.out).map((f) => f.rsv1)).toEqual([false, false, false]);
    expect(codec.compressed).toBe(0);
  });

  it('client and server with the codec exchange compressed messages both ways', () => {
    const c = recordingProtocol({ role: 'client', codec: zlibCodec(), fragmentSize: 50 });
    const s = recordingProtocol({ role: 'server', codec: zlibCodec() });
    const msgs = [big(5000, 'é'), big(10), big(3000, 'xyz')];
    for (const m of msgs) c.protocol.send(m, false);
    s.protocol.send(Buffer.alloc(4096, 3), true);
    pumpAll(c, s);
    expect(s.messages.map((m) => m.data.toString())).toEqual(msgs);
    expect(c.messages).toEqual([{ data: Buffer.alloc(4096, 3), isBinary: true }]);
    expect(s.closes).toEqual([]);
    expect(c.closes).toEqual([]);
  });

  it('a compression failure fails the connection with 1011', () => {
    const codec: MessageCodec = { ...zlibCodec(), compress: (_d, cb) => cb(new Error('zlib broke')) };
    const s = recordingProtocol({ role: 'server', codec });
    s.protocol.send(big(2000), false);
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1011]);
    expect(s.closes[0]).toMatchObject({ code: 1011, wasClean: false });
  });
});

describe('incoming compression (RSV1)', () => {
  it('RSV1 frames go through decompress; plain frames do not', () => {
    const codec = zlibCodec();
    const s = recordingProtocol({ role: 'server', codec });
    s.protocol.receive(compressedFromClient('hello compressed'));
    s.protocol.receive(rawFrame({ opcode: Opcode.Text, payload: Buffer.from('plain'), mask: KEY }));
    expect(s.messages.map((m) => m.data.toString())).toEqual(['hello compressed', 'plain']);
    expect(codec.decompressed).toBe(1);
  });

  it('a fragmented compressed message: RSV1 on the first frame, every frame inflated in order', () => {
    const codec = zlibCodec();
    const s = recordingProtocol({ role: 'server', codec });
    const deflated = deflateRawSync(Buffer.from(big(3000, 'q')));
    const a = deflated.subarray(0, 5);
    const b = deflated.subarray(5);
    s.protocol.receive(rawFrame({ opcode: Opcode.Binary, rsv1: true, fin: false, payload: a, mask: KEY }));
    s.protocol.receive(rawFrame({ opcode: Opcode.Ping, payload: Buffer.from('between'), mask: KEY }));
    s.protocol.receive(rawFrame({ opcode: Opcode.Continuation, payload: b, mask: KEY }));
    expect(s.messages).toEqual([{ data: Buffer.from(big(3000, 'q')), isBinary: true }]);
    expect(codec.decompressed).toBe(2);
    expect(s.pings).toEqual([Buffer.from('between')]);
  });

  it('RSV1 on a continuation frame is 1002 even with a codec', () => {
    const s = recordingProtocol({ role: 'server', codec: zlibCodec() });
    s.protocol.receive(rawFrame({ opcode: Opcode.Text, rsv1: true, fin: false, payload: Buffer.from([0]), mask: KEY }));
    s.protocol.receive(rawFrame({ opcode: Opcode.Continuation, rsv1: true, payload: Buffer.from([0]), mask: KEY }));
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1002]);
  });

  it('compressed text that inflates to invalid UTF-8 is 1007', () => {
    const s = recordingProtocol({ role: 'server', codec: zlibCodec() });
    s.protocol.receive(compressedFromClient(Buffer.from([0x61, 0xed, 0xa0, 0x80])));
    expect(s.messages).toEqual([]);
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1007]);
  });

  it('compressed text that ends mid-character is 1007', () => {
    const s = recordingProtocol({ role: 'server', codec: zlibCodec() });
    s.protocol.receive(compressedFromClient(Buffer.from([0x61, 0xe2, 0x82])));
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1007]);
  });

  it('a decompression error with closeCode 1009 fails the connection with 1009', () => {
    const s = recordingProtocol({ role: 'server', codec: zlibCodec(), maxPayload: 1000 });
    // 1001 bytes inflated from a tiny frame: only the inflater can see the limit is exceeded.
    s.protocol.receive(compressedFromClient(big(1001)));
    expect(s.messages).toEqual([]);
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1009]);
    expect(s.closes[0]).toMatchObject({ code: 1009, wasClean: false });
    expect(s.closes[0]!.error?.closeCode).toBe(1009);
    expect(s.ended).toBe(1);
  });

  it('an inflated message of exactly maxPayload is delivered', () => {
    const s = recordingProtocol({ role: 'server', codec: zlibCodec(), maxPayload: 1000 });
    s.protocol.receive(compressedFromClient(big(1000)));
    expect(s.messages.map((m) => m.data.length)).toEqual([1000]);
  });

  it('decompress errors carry their closeCode through; without one the connection fails with 1002', () => {
    const a = recordingProtocol({ role: 'server', codec: failingDecompress(Object.assign(new Error('too big'), { closeCode: 1009 })) });
    a.protocol.receive(compressedFromClient('x'));
    expect(parseWire(a.out).map((f) => closeOf(f).code)).toEqual([1009]);
    const b = recordingProtocol({ role: 'server', codec: failingDecompress(new Error('corrupt stream')) });
    b.protocol.receive(compressedFromClient('x'));
    expect(parseWire(b.out).map((f) => closeOf(f).code)).toEqual([1002]);
  });

  it('sendsQueued is true while a sent message is being compressed; onSendsFlushed says when all went out', () => {
    const codec = deferred(zlibCodec());
    const out: string[] = [];
    const p = new Protocol({ role: 'server', codec, compressThreshold: 0 }, {
      write: (chunk) => out.push(`frame ${chunk.length}`),
      onSendsFlushed: () => out.push('flushed'),
    });
    expect(p.sendsQueued).toBe(false);
    p.send('one', false);
    p.send('two', false, { compress: false });
    p.send('three', false);
    expect([p.sendsQueued, out]).toEqual([true, []]);
    codec.release(1);
    // 'one' and the plain 'two' behind it went; 'three' still compresses.
    expect([p.sendsQueued, out.length]).toEqual([true, 2]);
    codec.release(1);
    expect(p.sendsQueued).toBe(false);
    expect(out.slice(2)).toEqual([out[2], 'flushed']);
    expect(out.filter((l) => l === 'flushed')).toHaveLength(1);
    // A plain send never queues, so never reports.
    p.send('plain', false, { compress: false });
    expect(out.at(-1)).not.toBe('flushed');
  });

  it('holds later frames back while a message inflates, keeping message order', () => {
    const codec = deferred(zlibCodec());
    const s = recordingProtocol({ role: 'server', codec });
    s.protocol.receive(
      Buffer.concat([
        compressedFromClient('first (compressed)'),
        rawFrame({ opcode: Opcode.Text, payload: Buffer.from('second (plain)'), mask: KEY }),
        rawFrame({ opcode: Opcode.Ping, payload: Buffer.from('p'), mask: KEY }),
      ]),
    );
    expect(s.messages).toEqual([]);
    expect(s.pings).toEqual([]);
    expect(s.protocol.receivePaused).toBe(true);
    expect(s.protocol.bufferedIncoming).toBeGreaterThan(0);
    codec.release();
    expect(s.protocol.receivePaused).toBe(false);
    expect(s.messages.map((m) => m.data.toString())).toEqual(['first (compressed)', 'second (plain)']);
    expect(s.pings).toEqual([Buffer.from('p')]);
  });

  it('an EOF arriving while a message inflates is acted on only after the bytes before it', () => {
    // A server's last message, its Close and its TCP FIN can all arrive before zlib is done.
    const codec = deferred(zlibCodec());
    const c = recordingProtocol({ role: 'client', codec });
    c.protocol.receive(
      Buffer.concat([
        rawFrame({ opcode: Opcode.Text, rsv1: true, payload: deflateRawSync(Buffer.from('last words')) }),
        rawFrame({ opcode: Opcode.Close, payload: Buffer.from([0x03, 0xe9]) }),
      ]),
    );
    c.protocol.receiveEof();
    expect(c.closes).toEqual([]);
    codec.release();
    expect(c.messages.map((m) => m.data.toString())).toEqual(['last words']);
    expect(c.closes).toEqual([{ code: 1001, reason: '', wasClean: true, remoteInitiated: true }]);
    expect(parseWire(c.out).map((f) => closeOf(f).code)).toEqual([1001]);
  });

  it('an EOF while inflating, with only part of the next frame buffered, is 1006 once the inflation ends', () => {
    const codec = deferred(zlibCodec());
    const c = recordingProtocol({ role: 'client', codec });
    const next = rawFrame({ opcode: Opcode.Text, payload: Buffer.from('cut short') });
    c.protocol.receive(
      Buffer.concat([rawFrame({ opcode: Opcode.Binary, rsv1: true, payload: deflateRawSync(Buffer.alloc(10)) }), next.subarray(0, 4)]),
    );
    c.protocol.receiveEof();
    codec.release();
    expect(c.messages).toEqual([{ data: Buffer.alloc(10), isBinary: true }]);
    expect(c.closes).toEqual([{ code: 1006, reason: '', wasClean: false, remoteInitiated: false }]);
  });

  it('abort() during an inflation is immediate', () => {
    const codec = deferred(zlibCodec());
    const c = recordingProtocol({ role: 'client', codec });
    c.protocol.receive(rawFrame({ opcode: Opcode.Binary, rsv1: true, payload: deflateRawSync(Buffer.alloc(10)) }));
    c.protocol.abort();
    expect(c.closes).toEqual([{ code: 1006, reason: '', wasClean: false, remoteInitiated: false }]);
    codec.release();
    expect(c.messages).toEqual([]);
  });

  it('a close during an inflation drops the inflated result', () => {
    const codec = deferred(zlibCodec());
    const s = recordingProtocol({ role: 'server', codec });
    s.protocol.receive(compressedFromClient('never delivered'));
    s.protocol.abort();
    codec.release();
    expect(s.messages).toEqual([]);
    expect(s.closes).toHaveLength(1);
  });
});

describe('ordering behind an asynchronous compression', () => {
  function asyncServer() {
    const codec = deferred(zlibCodec());
    const writes: Array<{ chunk: Buffer; hasCb: boolean }> = [];
    const done: string[] = [];
    const ended: number[] = [];
    const protocol = new Protocol(
      { role: 'server', codec, compressThreshold: 100 },
      {
        write: (chunk, cb) => {
          writes.push({ chunk: Buffer.from(chunk), hasCb: cb !== undefined });
          cb?.(null);
        },
        endTransport: () => ended.push(1),
      },
    );
    return { codec, writes, done, protocol, ended };
  }

  it('frames sent after a compressed message wait for it, and go out in send order with their callbacks', () => {
    const { codec, writes, done, protocol } = asyncServer();
    protocol.send(big(1000, 'A'), false, undefined, (err) => done.push(`big:${err ?? 'ok'}`));
    protocol.send('small', false, undefined, (err) => done.push(`small:${err ?? 'ok'}`));
    protocol.ping(Buffer.from('p'));
    protocol.send(big(1000, 'B'), false, undefined, (err) => done.push(`big2:${err ?? 'ok'}`));
    protocol.close(1000, 'end');
    expect(writes).toEqual([]);
    codec.release(1);
    // The first compressed message and what queued behind it, up to the next compression.
    expect(parseWire(writes.map((w) => w.chunk)).map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Text, Opcode.Ping]);
    codec.release();
    const frames = parseWire(writes.map((w) => w.chunk));
    expect(frames.map((f) => [f.opcode, f.rsv1])).toEqual([
      [Opcode.Text, true],
      [Opcode.Text, false],
      [Opcode.Ping, false],
      [Opcode.Text, true],
      [Opcode.Close, false],
    ]);
    expect(frames[1]!.payload.toString()).toBe('small');
    expect(closeOf(frames[4]!)).toEqual({ code: 1000, reason: 'end' });
    expect(done).toEqual(['big:ok', 'small:ok', 'big2:ok']);
  });

  it('callbacks of sends still queued when the connection ends get an error', () => {
    const { codec, done, protocol } = asyncServer();
    protocol.send(big(1000), false, undefined, (err) => done.push(err ? 'error' : 'ok'));
    protocol.send('queued', false, undefined, (err) => done.push(err ? 'error' : 'ok'));
    protocol.abort();
    expect(done).toEqual(['error', 'error']);
    codec.release();
    expect(done).toEqual(['error', 'error']);
  });

  // What happens when closing begins while a compression is pending (the Close waits for it):
  // send-before-close.test.ts.

  it('our queued Close still goes out if the peer’s Close arrives before the compression finishes', () => {
    const { codec, writes, protocol } = asyncServer();
    protocol.send(big(1000), false);
    protocol.close(4000, 'mine');
    protocol.receive(rawFrame({ opcode: Opcode.Close, payload: Buffer.from([0x0f, 0xa1]), mask: KEY }));
    codec.release();
    const frames = parseWire(writes.map((w) => w.chunk));
    expect(frames.filter((f) => f.opcode === Opcode.Close).map((f) => closeOf(f))).toEqual([{ code: 4000, reason: 'mine' }]);
    expect(protocol.closed).toMatchObject({ code: 4001, wasClean: true, remoteInitiated: false });
  });

  it('the codec is closed when the connection closes', () => {
    const codec = zlibCodec();
    const c = recordingProtocol({ role: 'client', codec });
    const s = recordingProtocol({ role: 'server' });
    c.protocol.close(1000);
    pump(c, s);
    pump(s, c);
    expect(codec.closed).toBe(1);
  });
});

describe('asynchronous inflation under arbitrary timing (property)', () => {
  it('compressed and plain messages, any chunking, inflations finishing at any time: same messages, same order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ msg: message, compress: fc.boolean() }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 200 }),
        chunking,
        fc.array(fc.nat({ max: 3 }), { maxLength: 60 }),
        (plan, fragment, cut, releases) => {
          const largest = Math.max(0, ...plan.map((p) => p.msg.data.length + 64));
          const fragmentSize = boundedFragmentSize(fragment, largest);
          const sender = recordingProtocol({ role: 'client', codec: zlibCodec(), compressThreshold: 0, fragmentSize });
          for (const { msg, compress } of plan) sender.protocol.send(msg.binary ? msg.data : msg.data.toString('utf8'), msg.binary, { compress });
          const codec = deferred(zlibCodec());
          const receiver = recordingProtocol({ role: 'server', codec, maxPayload: 0 });
          const chunks = chunksOf(Buffer.concat(sender.out), cut);
          chunks.forEach((chunk, i) => {
            receiver.protocol.receive(chunk);
            codec.release(releases[i % Math.max(1, releases.length)] ?? 1);
          });
          // One inflation per frame; each release may let the decoder reach the next one.
          while (codec.waiting() > 0) codec.release(1);
          expect(receiver.closes).toEqual([]);
          expect(receiver.protocol.receivePaused).toBe(false);
          expect(receiver.messages.map((m) => [m.isBinary, m.data.toString('hex')])).toEqual(
            plan.map(({ msg }) => [msg.binary, msg.data.toString('hex')]),
          );
        },
      ),
      { numRuns: 100 },
    );
  });
});
