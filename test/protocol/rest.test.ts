/**
 * A connection at rest after a Ping or Pong lets go of its frame decoder (Protocol's `#rest`):
 * a server's heartbeat gets a Pong from every idle client each round, and the decoder, its
 * chunk list and its masking key are then dropped until bytes come again. These tests check
 * that the decoder really goes, and that nothing a fresh one must know is lost with it: the
 * role, the limits, RSV1 for a negotiated codec, a message open across the control frame, a
 * frame begun in the same chunk, an inflation in progress.
 */
import { queryObjects } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../src/framing/index.js';
import { CloseCode, Opcode } from '../../src/protocol/index.js';
import { KEY, rawFrame } from '../framing/helpers.js';
import { deferred, zlibCodec } from './codecs.js';
import { recordingProtocol } from './pair.js';
import { closeOf, parseWire } from './wire.js';
import { deflateRawSync } from 'node:zlib';

const text = (s: string): Buffer => Buffer.from(s, 'utf8');
const fromClient = (opcode: number, payload: Uint8Array = new Uint8Array(0), fin = true, rsv1 = false): Buffer =>
  rawFrame({ opcode, payload, fin, rsv1, mask: KEY });
const server = (extra: Parameters<typeof recordingProtocol>[0] | object = {}) => recordingProtocol({ role: 'server', ...extra });
const decoders = (): number => queryObjects(FrameDecoder, { format: 'count' }) as number;

describe('a connection at rest after a control frame', () => {
  it('drops its decoder after a Pong, and not after a data message', () => {
    const base = decoders();
    const sides = Array.from({ length: 50 }, () => server());
    for (const s of sides) s.protocol.receive(fromClient(Opcode.Text, text('hello')));
    // Data alone keeps the decoder (a busy connection must not make one per read).
    expect(decoders()).toBe(base + 50);
    for (const s of sides) s.protocol.receive(fromClient(Opcode.Pong));
    expect(decoders()).toBe(base);
    expect(sides.every((s) => s.messages.length === 1 && s.pongs.length === 1)).toBe(true);
  });

  it('keeps its role and limits: a message after the rest decodes, an unmasked frame or an oversized one fails as before', () => {
    const s = server({ maxPayload: 10 });
    s.protocol.receive(fromClient(Opcode.Ping, text('hb')));
    const frame = fromClient(Opcode.Text, text('split me'));
    for (let i = 0; i < frame.length; i += 3) s.protocol.receive(frame.subarray(i, i + 3));
    expect(s.messages.map((m) => m.data.toString())).toEqual(['split me']);

    s.protocol.receive(fromClient(Opcode.Pong));
    s.protocol.receive(rawFrame({ opcode: Opcode.Text, payload: text('bare') }));
    expect(closeOf(parseWire(s.out).at(-1)!).code).toBe(CloseCode.ProtocolError);

    const t = server({ maxPayload: 10 });
    t.protocol.receive(fromClient(Opcode.Pong));
    t.protocol.receive(fromClient(Opcode.Binary, Buffer.alloc(11)));
    expect(closeOf(parseWire(t.out).at(-1)!).code).toBe(CloseCode.MessageTooBig);
  });

  it('keeps a message open across a Ping: a character split by the Ping still validates', () => {
    const s = server();
    const euro = text('€'); // three bytes, split 1 | 2 around the Ping
    s.protocol.receive(fromClient(Opcode.Text, Buffer.concat([text('a'), euro.subarray(0, 1)]), false));
    s.protocol.receive(fromClient(Opcode.Ping));
    s.protocol.receive(fromClient(Opcode.Continuation, Buffer.concat([euro.subarray(1), text('b')]), true));
    expect(s.messages.map((m) => m.data.toString())).toEqual(['a€b']);
    expect(parseWire(s.out).map((f) => f.opcode)).toEqual([Opcode.Pong]);
  });

  it('keeps a frame begun in the same chunk as the Pong', () => {
    const s = server();
    const next = fromClient(Opcode.Binary, Buffer.from([1, 2, 3, 4, 5, 6]));
    s.protocol.receive(Buffer.concat([fromClient(Opcode.Pong), next.subarray(0, 5)]));
    s.protocol.receive(next.subarray(5));
    expect(s.messages).toEqual([{ data: Buffer.from([1, 2, 3, 4, 5, 6]), isBinary: true }]);
  });

  it('keeps accepting RSV1 with a codec, and a Pong during an inflation changes no order', () => {
    const codec = deferred(zlibCodec());
    const s = server({ codec });
    s.protocol.receive(fromClient(Opcode.Pong));
    s.protocol.receive(fromClient(Opcode.Text, deflateRawSync(text('first')), true, true));
    // The inflation is pending: a Pong and a plain message arrive behind it.
    s.protocol.receive(Buffer.concat([fromClient(Opcode.Pong), fromClient(Opcode.Text, text('second'))]));
    expect(s.messages).toEqual([]);
    codec.release();
    expect(s.messages.map((m) => m.data.toString())).toEqual(['first', 'second']);
    s.protocol.receive(fromClient(Opcode.Pong));
    s.protocol.receive(fromClient(Opcode.Text, deflateRawSync(text('third')), true, true));
    codec.release();
    expect(s.messages.map((m) => m.data.toString())).toEqual(['first', 'second', 'third']);
    expect(s.pongs.length).toBe(3);
  });

  it('completes a closing handshake that starts after the rest', async () => {
    const s = server();
    s.protocol.receive(fromClient(Opcode.Pong));
    s.protocol.receive(fromClient(Opcode.Close, Buffer.from([0x03, 0xe8])));
    const info = await s.closed;
    expect(info).toMatchObject({ code: 1000, wasClean: true });
    expect(parseWire(s.out).map((f) => f.opcode)).toEqual([Opcode.Close]);
    // Bytes after the Close are ignored: the decoder made for the Close was stopped, not rested.
    s.protocol.receive(fromClient(Opcode.Text, text('late')));
    expect(s.messages).toEqual([]);
  });
});
