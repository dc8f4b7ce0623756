import { describe, expect, it } from 'vitest';
import { Opcode, ReadyState } from '../../src/protocol/index.js';
import { KEY, rawFrame } from '../framing/helpers.js';
import { pump, pumpAll, recordingProtocol } from './pair.js';
import { closeOf, parseWire } from './wire.js';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');

/** A frame a client would send (masked). */
function fromClient(opcode: number, payload: Uint8Array = new Uint8Array(0), fin = true): Buffer {
  return rawFrame({ opcode, payload, fin, mask: KEY });
}

function closePayload(code: number, reason = ''): Buffer {
  const out = Buffer.alloc(2 + Buffer.byteLength(reason));
  out.writeUInt16BE(code, 0);
  out.write(reason, 2);
  return out;
}

const server = () => recordingProtocol({ role: 'server' });
const client = () => recordingProtocol({ role: 'client' });

describe('pings and pongs', () => {
  it('answers a ping with a pong carrying the same payload, and reports the ping', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Ping, text('are you there')));
    expect(s.pings).toEqual([text('are you there')]);
    expect(parseWire(s.out)).toEqual([{ fin: true, rsv1: false, opcode: Opcode.Pong, masked: false, payload: text('are you there') }]);
  });

  it('a client answers with a masked pong', () => {
    const c = client();
    c.protocol.receive(rawFrame({ opcode: Opcode.Ping, payload: text('x') }));
    expect(parseWire(c.out)).toEqual([{ fin: true, rsv1: false, opcode: Opcode.Pong, masked: true, payload: text('x') }]);
  });

  it('autoPong: false reports the ping but writes nothing', () => {
    const s = recordingProtocol({ role: 'server', autoPong: false });
    s.protocol.receive(fromClient(Opcode.Ping, text('p')));
    expect(s.pings).toEqual([text('p')]);
    expect(s.out).toEqual([]);
  });

  it('does not pong once its own Close frame was sent', () => {
    const s = server();
    s.protocol.close(1000);
    s.protocol.receive(fromClient(Opcode.Ping, text('late')));
    const frames = parseWire(s.out);
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.Close]);
    expect(s.pings).toEqual([text('late')]);
  });

  it('reports pongs', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Pong, text('pong!')));
    expect(s.pongs).toEqual([text('pong!')]);
    expect(s.out).toEqual([]);
  });

  it('ping()/pong() reject payloads over 125 bytes and return false after close', () => {
    const s = server();
    expect(() => s.protocol.ping(Buffer.alloc(126))).toThrow(RangeError);
    expect(() => s.protocol.pong(Buffer.alloc(126))).toThrow(RangeError);
    expect(s.protocol.ping(Buffer.alloc(125))).toBe(true);
    expect(s.protocol.pong()).toBe(true);
    s.protocol.close();
    expect(s.protocol.ping()).toBe(false);
    expect(s.protocol.pong()).toBe(false);
    expect(parseWire(s.out).map((f) => f.opcode)).toEqual([Opcode.Ping, Opcode.Pong, Opcode.Close]);
  });

  it('control frames between fragments are handled at once, and the message still assembles', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Text, text('hel'), false));
    s.protocol.receive(fromClient(Opcode.Ping, text('1')));
    expect(parseWire(s.out.splice(0)).map((f) => [f.opcode, f.payload.toString()])).toEqual([[Opcode.Pong, '1']]);
    s.protocol.receive(fromClient(Opcode.Pong, text('2')));
    s.protocol.receive(fromClient(Opcode.Continuation, text('lo')));
    expect(s.messages).toEqual([{ data: text('hello'), isBinary: false }]);
    expect(s.pongs).toEqual([text('2')]);
  });
});

describe('closing handshake', () => {
  it('echoes the peer’s close code and reason (as ws does) and reports a clean remote-initiated close', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Close, closePayload(4002, 'bye now')));
    const frames = parseWire(s.out);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.masked).toBe(false);
    expect(closeOf(frames[0]!)).toEqual({ code: 4002, reason: 'bye now' });
    expect(s.closes).toEqual([{ code: 4002, reason: 'bye now', wasClean: true, remoteInitiated: true }]);
    expect(s.ended).toBe(1);
    expect(s.protocol.readyState).toBe(ReadyState.CLOSED);
  });

  it('a client echoes masked and leaves closing TCP to the server', () => {
    const c = client();
    c.protocol.receive(rawFrame({ opcode: Opcode.Close, payload: closePayload(1001) }));
    const frames = parseWire(c.out);
    expect(frames.map((f) => [f.opcode, f.masked, closeOf(f).code])).toEqual([[Opcode.Close, true, 1001]]);
    expect(c.closes).toEqual([{ code: 1001, reason: '', wasClean: true, remoteInitiated: true }]);
    expect(c.ended).toBe(0);
  });

  it('an empty Close is echoed as an empty Close and reported as 1005', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Close));
    const frames = parseWire(s.out);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.opcode).toBe(Opcode.Close);
    expect(frames[0]!.payload.length).toBe(0);
    expect(s.closes).toEqual([{ code: 1005, reason: '', wasClean: true, remoteInitiated: true }]);
  });

  it('ignores data that follows the peer’s Close frame, in the same chunk or later', () => {
    const s = server();
    s.protocol.receive(Buffer.concat([fromClient(Opcode.Text, text('before')), fromClient(Opcode.Close), fromClient(Opcode.Text, text('after'))]));
    s.protocol.receive(fromClient(Opcode.Text, text('later')));
    s.protocol.receive(fromClient(Opcode.Ping));
    expect(s.messages.map((m) => m.data.toString())).toEqual(['before']);
    expect(parseWire(s.out).map((f) => f.opcode)).toEqual([Opcode.Close]);
    expect(s.closes).toHaveLength(1);
  });

  it('a half-received fragmented message is discarded when the Close arrives', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Binary, text('part'), false));
    s.protocol.receive(fromClient(Opcode.Close, closePayload(1000)));
    s.protocol.receive(fromClient(Opcode.Continuation, text('rest')));
    expect(s.messages).toEqual([]);
    expect(s.closes[0]).toMatchObject({ code: 1000, wasClean: true });
  });

  it('local close: one Close frame, CLOSING until the peer answers, then clean', () => {
    const s = server();
    expect(s.protocol.close(1000, 'done')).toBe(true);
    expect(s.protocol.close(1001)).toBe(false);
    expect(s.protocol.readyState).toBe(ReadyState.CLOSING);
    expect(parseWire(s.out).map((f) => closeOf(f))).toEqual([{ code: 1000, reason: 'done' }]);
    // Data still arriving before the peer's Close is delivered.
    s.protocol.receive(fromClient(Opcode.Text, text('in flight')));
    expect(s.messages.map((m) => m.data.toString())).toEqual(['in flight']);
    expect(s.ended).toBe(0);
    s.protocol.receive(fromClient(Opcode.Close, closePayload(1000)));
    expect(parseWire(s.out)).toHaveLength(1);
    expect(s.closes).toEqual([{ code: 1000, reason: '', wasClean: true, remoteInitiated: false }]);
    expect(s.ended).toBe(1);
  });

  it('close() with no code sends an empty Close frame', () => {
    const c = client();
    c.protocol.close();
    const frames = parseWire(c.out);
    expect(frames.map((f) => [f.opcode, f.masked, f.payload.length])).toEqual([[Opcode.Close, true, 0]]);
  });

  it('send returns false and writes nothing once a Close frame was sent (local or echoed)', () => {
    const a = server();
    a.protocol.close(1000);
    a.out.length = 0;
    expect(a.protocol.send('x', false)).toBe(false);
    expect(a.protocol.send(Buffer.from('x'), true)).toBe(false);
    expect(a.out).toEqual([]);
    const b = server();
    b.protocol.receive(fromClient(Opcode.Close));
    b.out.length = 0;
    expect(b.protocol.send('x', false)).toBe(false);
    expect(b.protocol.close(1000)).toBe(false);
    expect(b.out).toEqual([]);
  });

  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535])('close(%i) throws a RangeError and sends nothing', (code) => {
    const s = server();
    expect(() => s.protocol.close(code)).toThrow(RangeError);
    expect(s.out).toEqual([]);
    expect(s.protocol.readyState).toBe(ReadyState.OPEN);
  });

  it('close() rejects a reason over 123 bytes (counting UTF-8 bytes) and a reason without a code', () => {
    const s = server();
    expect(() => s.protocol.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(() => s.protocol.close(1000, 'é'.repeat(62))).toThrow(RangeError); // 124 bytes, 62 chars
    expect(() => s.protocol.close(undefined, 'why')).toThrow(TypeError);
    expect(s.out).toEqual([]);
    expect(s.protocol.close(4999, 'é'.repeat(61) + 'x')).toBe(true); // exactly 123 bytes
    expect(closeOf(parseWire(s.out)[0]!)).toEqual({ code: 4999, reason: 'é'.repeat(61) + 'x' });
  });

  it('fail(1008, reason) sends Close 1008 and closes uncleanly, ending the transport', () => {
    for (const role of ['server', 'client'] as const) {
      const side = recordingProtocol({ role });
      side.protocol.fail(1008, 'policy says no');
      expect(parseWire(side.out).map((f) => closeOf(f))).toEqual([{ code: 1008, reason: 'policy says no' }]);
      expect(side.closes).toHaveLength(1);
      expect(side.closes[0]).toMatchObject({ code: 1008, reason: 'policy says no', wasClean: false, remoteInitiated: false });
      expect(side.closes[0]!.error?.closeCode).toBe(1008);
      expect(side.ended).toBe(1);
      expect(side.protocol.readyState).toBe(ReadyState.CLOSED);
      side.protocol.receive(role === 'server' ? fromClient(Opcode.Text, text('x')) : rawFrame({ opcode: Opcode.Text, payload: text('x') }));
      expect(side.messages).toEqual([]);
    }
  });

  it('fail() after our Close was sent does not send a second one', () => {
    const s = server();
    s.protocol.close(1000);
    s.protocol.fail(1011, 'oops');
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1000]);
    expect(s.closes).toEqual([expect.objectContaining({ code: 1011, wasClean: false })]);
  });

  it('abort() reports 1006 without writing anything', () => {
    const s = server();
    s.protocol.send('queued', false);
    s.out.length = 0;
    s.protocol.abort();
    expect(s.out).toEqual([]);
    expect(s.closes).toEqual([{ code: 1006, reason: '', wasClean: false, remoteInitiated: false }]);
    expect(s.protocol.readyState).toBe(ReadyState.CLOSED);
    expect(s.protocol.send('x', false)).toBe(false);
    expect(s.protocol.close(1000)).toBe(false);
    s.protocol.abort();
    expect(s.closes).toHaveLength(1);
  });

  it('receiveEof before the closing handshake is 1006, not clean; the peer’s later bytes are ignored', () => {
    const c = client();
    c.protocol.receiveEof();
    expect(c.closes).toEqual([{ code: 1006, reason: '', wasClean: false, remoteInitiated: false }]);
    c.protocol.receive(rawFrame({ opcode: Opcode.Text, payload: text('ghost') }));
    expect(c.messages).toEqual([]);
    expect(c.out).toEqual([]);
  });

  it('receiveEof while CLOSING (our Close unanswered) is 1006', () => {
    const c = client();
    c.protocol.close(1000);
    c.protocol.receiveEof();
    expect(c.closes).toEqual([{ code: 1006, reason: '', wasClean: false, remoteInitiated: false }]);
  });

  it('receiveEof after a clean close changes nothing', () => {
    const c = client();
    const s = server();
    c.protocol.close(1000);
    pumpAll(c, s);
    c.protocol.receiveEof();
    s.protocol.receiveEof();
    expect(c.closes).toEqual([{ code: 1000, reason: '', wasClean: true, remoteInitiated: false }]);
    expect(s.closes).toEqual([{ code: 1000, reason: '', wasClean: true, remoteInitiated: true }]);
  });

  it('an invalid Close frame fails the connection: 1002 for a bad code, 1007 for a bad reason', () => {
    const a = server();
    a.protocol.receive(fromClient(Opcode.Close, closePayload(1005)));
    expect(parseWire(a.out).map((f) => closeOf(f).code)).toEqual([1002]);
    expect(a.closes[0]).toMatchObject({ code: 1002, wasClean: false });
    const b = server();
    b.protocol.receive(fromClient(Opcode.Close, Buffer.concat([closePayload(1000), Buffer.from([0xff])])));
    expect(parseWire(b.out).map((f) => closeOf(f).code)).toEqual([1007]);
    const c = server();
    c.protocol.receive(fromClient(Opcode.Close, Buffer.from([0x03])));
    expect(parseWire(c.out).map((f) => closeOf(f).code)).toEqual([1002]);
  });

  it('onClose fires exactly once whatever follows', () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Close, closePayload(1000)));
    s.protocol.fail(1011, 'x');
    s.protocol.abort();
    s.protocol.receiveEof();
    s.protocol.close();
    expect(s.closes).toHaveLength(1);
    expect(s.protocol.closed).toEqual(s.closes[0]);
  });
});

describe('framing of outgoing messages', () => {
  function exerciseAllFrameKinds(side: ReturnType<typeof client>) {
    const p = side.protocol;
    p.send('text', false);
    p.send(Buffer.alloc(200, 1), true);
    p.send(Buffer.alloc(70000, 2), true);
    p.send('x'.repeat(2000), false);
    p.send('a', false, { fin: false });
    p.send(Buffer.from('b'), false, { fin: true });
    p.ping(text('ping'));
    p.pong(text('pong'));
    p.close(1000, 'bye');
  }

  it('a client masks every frame it writes', () => {
    const c = client();
    exerciseAllFrameKinds(c);
    const wire = Buffer.concat(c.out);
    const frames = parseWire(wire);
    expect(frames).toHaveLength(9);
    expect(frames.every((f) => f.masked)).toBe(true);
    expect(frames.map((f) => f.opcode)).toEqual([1, 2, 2, 1, 1, 0, 9, 10, 8]);
  });

  it('a server never masks', () => {
    const s = server();
    exerciseAllFrameKinds(s);
    const frames = parseWire(s.out);
    expect(frames).toHaveLength(9);
    expect(frames.every((f) => !f.masked)).toBe(true);
  });

  it('masking does not alter the caller’s buffer', () => {
    const c = client();
    const data = Buffer.alloc(3000, 0x5a);
    c.protocol.send(data, true);
    expect(data.every((x) => x === 0x5a)).toBe(true);
    expect(parseWire(c.out)[0]!.payload.equals(data)).toBe(true);
  });

  it('fin:false sends produce one correctly fragmented message, with control frames allowed between', () => {
    const c = client();
    const s = server();
    expect(c.protocol.send(Buffer.from([0xe2, 0x82]), false, { fin: false })).toBe(true);
    c.protocol.ping(text('mid'));
    c.protocol.send('', true, { fin: false }); // isBinary of a continuation is ignored
    c.protocol.send(Buffer.from([0xac, 0x21]), true, { fin: true });
    c.protocol.send('next', false);
    const frames = parseWire(c.out);
    expect(frames.map((f) => [f.opcode, f.fin])).toEqual([
      [Opcode.Text, false],
      [Opcode.Ping, true],
      [Opcode.Continuation, false],
      [Opcode.Continuation, true],
      [Opcode.Text, true],
    ]);
    pump(c, s);
    expect(s.messages).toEqual([
      { data: text('€!'), isBinary: false },
      { data: text('next'), isBinary: false },
    ]);
    expect(s.closes).toEqual([]);
  });

  it('fragmentSize splits binary and text messages into frames of at most that many bytes', () => {
    const c = recordingProtocol({ role: 'client', fragmentSize: 10 });
    const s = server();
    c.protocol.send(Buffer.alloc(25, 7), true);
    c.protocol.send('y'.repeat(21), false);
    c.protocol.send('abc', false); // 3 chars × 3 bytes ≤ 10: one frame
    c.protocol.send(Buffer.alloc(10, 1), true); // exactly one fragment
    const frames = parseWire(c.out);
    expect(frames.map((f) => [f.opcode, f.fin, f.payload.length])).toEqual([
      [Opcode.Binary, false, 10],
      [Opcode.Continuation, false, 10],
      [Opcode.Continuation, true, 5],
      [Opcode.Text, false, 10],
      [Opcode.Continuation, false, 10],
      [Opcode.Continuation, true, 1],
      [Opcode.Text, true, 3],
      [Opcode.Binary, true, 10],
    ]);
    pump(c, s);
    expect(s.messages.map((m) => [m.isBinary, m.data.toString('hex')])).toEqual([
      [true, Buffer.alloc(25, 7).toString('hex')],
      [false, text('y'.repeat(21)).toString('hex')],
      [false, text('abc').toString('hex')],
      [true, Buffer.alloc(10, 1).toString('hex')],
    ]);
  });

  it('fragmentSize splits multi-byte text mid-character and the peer still accepts it', () => {
    const c = recordingProtocol({ role: 'client', fragmentSize: 5 });
    const s = server();
    const msg = '😀€é'.repeat(10);
    c.protocol.send(msg, false);
    expect(parseWire(c.out).length).toBeGreaterThan(1);
    pump(c, s);
    expect(s.messages).toEqual([{ data: text(msg), isBinary: false }]);
  });
});

describe('incoming messages', () => {
  it('assembles a message of 10,000 one-byte fragments', () => {
    const s = server();
    const expected = Buffer.from(Array.from({ length: 10000 }, (_, i) => i & 0xff));
    const frames: Buffer[] = [];
    for (let i = 0; i < 10000; i++) frames.push(fromClient(i === 0 ? Opcode.Binary : Opcode.Continuation, expected.subarray(i, i + 1), i === 9999));
    s.protocol.receive(Buffer.concat(frames));
    expect(s.closes).toEqual([]);
    expect(s.messages).toHaveLength(1);
    expect(s.messages[0]!.isBinary).toBe(true);
    expect(s.messages[0]!.data.equals(expected)).toBe(true);
  });

  it('assembles multi-byte text sent one byte per fragment, fed one frame per chunk', () => {
    const s = server();
    const bytes = text('ü€😀'.repeat(300));
    for (let i = 0; i < bytes.length; i++) {
      s.protocol.receive(fromClient(i === 0 ? Opcode.Text : Opcode.Continuation, bytes.subarray(i, i + 1), i === bytes.length - 1));
    }
    expect(s.closes).toEqual([]);
    expect(s.messages).toEqual([{ data: bytes, isBinary: false }]);
  });

  it('an empty message, text and binary', () => {
    const s = server();
    s.protocol.receive(Buffer.concat([fromClient(Opcode.Text), fromClient(Opcode.Binary, new Uint8Array(0), false), fromClient(Opcode.Continuation)]));
    expect(s.messages).toEqual([
      { data: Buffer.alloc(0), isBinary: false },
      { data: Buffer.alloc(0), isBinary: true },
    ]);
  });

  it('a message over maxPayload fails the connection with 1009', () => {
    const s = recordingProtocol({ role: 'server', maxPayload: 100 });
    s.protocol.receive(fromClient(Opcode.Binary, Buffer.alloc(60), false));
    s.protocol.receive(fromClient(Opcode.Continuation, Buffer.alloc(41)));
    expect(s.messages).toEqual([]);
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1009]);
    expect(s.closes[0]).toMatchObject({ code: 1009, wasClean: false });
    expect(s.ended).toBe(1);
  });

  it('more fragments than maxFragments fails with 1009', () => {
    const s = recordingProtocol({ role: 'server', maxFragments: 3 });
    for (let i = 0; i < 4; i++) s.protocol.receive(fromClient(i === 0 ? Opcode.Binary : Opcode.Continuation, text('a'), false));
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1009]);
  });

  it('invalid UTF-8 fails with 1007; validateUtf8: false delivers the bytes', () => {
    const a = server();
    a.protocol.receive(fromClient(Opcode.Text, Buffer.from([0x61, 0xc0, 0xaf])));
    expect(parseWire(a.out).map((f) => closeOf(f).code)).toEqual([1007]);
    expect(a.closes[0]).toMatchObject({ code: 1007, wasClean: false });
    const b = recordingProtocol({ role: 'server', validateUtf8: false });
    b.protocol.receive(fromClient(Opcode.Text, Buffer.from([0x61, 0xc0, 0xaf])));
    expect(b.messages).toEqual([{ data: Buffer.from([0x61, 0xc0, 0xaf]), isBinary: false }]);
  });

  it('RSV1 without a codec fails with 1002', () => {
    const s = server();
    s.protocol.receive(rawFrame({ opcode: Opcode.Text, rsv1: true, payload: text('x'), mask: KEY }));
    expect(parseWire(s.out).map((f) => closeOf(f).code)).toEqual([1002]);
  });
});
