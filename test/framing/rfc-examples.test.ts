import { describe, expect, it } from 'vitest';
import { Opcode, encodeFrame, encodeFragments } from '../../src/framing/index.js';
import { hex, recordingDecoder } from './helpers.js';

// RFC 6455 §5.7 examples, byte for byte.
const MASK = hex('37fa213d');

describe('RFC 6455 §5.7 examples', () => {
  it('single-frame unmasked text "Hello"', () => {
    const wire = hex('810548656c6c6f');
    expect(Buffer.concat(encodeFrame(Opcode.Text, Buffer.from('Hello')))).toEqual(wire);
    const { decoder, rec } = recordingDecoder({ role: 'client' });
    decoder.push(wire);
    expect(rec.error).toBeNull();
    expect(rec.frames).toEqual([{ kind: 'data', payload: Buffer.from('Hello'), fin: true, opcode: 1, compressed: false }]);
  });

  it('single-frame masked text "Hello"', () => {
    const wire = hex('818537fa213d7f9f4d5158');
    expect(Buffer.concat(encodeFrame(Opcode.Text, Buffer.from('Hello'), { mask: MASK }))).toEqual(wire);
    const { decoder, rec } = recordingDecoder({ role: 'server' });
    decoder.push(wire);
    expect(rec.frames[0]).toMatchObject({ payload: Buffer.from('Hello'), fin: true });
  });

  it('fragmented unmasked text "Hel" + "lo"', () => {
    const wire = hex('010348656c 80026c6f');
    expect(Buffer.concat(encodeFragments(Opcode.Text, Buffer.from('Hello'), 3))).toEqual(wire);
    const { decoder, rec } = recordingDecoder({ role: 'client' });
    decoder.push(wire);
    expect(rec.frames.map((f) => [f.kind === 'data' && f.fin, f.payload.toString()])).toEqual([
      [false, 'Hel'],
      [true, 'lo'],
    ]);
  });

  it('unmasked Ping and masked Pong with body "Hello"', () => {
    const ping = hex('890548656c6c6f');
    const pong = hex('8a8537fa213d7f9f4d5158');
    expect(Buffer.concat(encodeFrame(Opcode.Ping, Buffer.from('Hello')))).toEqual(ping);
    expect(Buffer.concat(encodeFrame(Opcode.Pong, Buffer.from('Hello'), { mask: MASK }))).toEqual(pong);
    const client = recordingDecoder({ role: 'client' });
    client.decoder.push(ping);
    expect(client.rec.frames).toEqual([{ kind: 'control', opcode: Opcode.Ping, payload: Buffer.from('Hello') }]);
    const server = recordingDecoder({ role: 'server' });
    server.decoder.push(pong);
    expect(server.rec.frames).toEqual([{ kind: 'control', opcode: Opcode.Pong, payload: Buffer.from('Hello') }]);
  });

  it('256-byte and 65536-byte unmasked binary headers use 16- and 64-bit lengths', () => {
    const a = encodeFrame(Opcode.Binary, Buffer.alloc(256));
    expect(a[0]!.subarray(0, 4)).toEqual(hex('827e0100'));
    const b = encodeFrame(Opcode.Binary, Buffer.alloc(65536));
    expect(b[0]!.subarray(0, 10)).toEqual(hex('827f0000000000010000'));
    for (const [len, frames] of [[256, a], [65536, b]] as const) {
      const { decoder, rec } = recordingDecoder({ role: 'client' });
      for (const f of frames) decoder.push(Buffer.from(f));
      expect(rec.frames).toHaveLength(1);
      expect(rec.frames[0]!.payload.length).toBe(len);
    }
  });

  it('uses the minimal length encoding at every boundary', () => {
    const cases: Array<[number, number]> = [[0, 2], [125, 2], [126, 4], [65535, 4], [65536, 10]];
    for (const [len, hlen] of cases) {
      const frame = Buffer.concat(encodeFrame(Opcode.Binary, Buffer.alloc(len)));
      expect(frame.length - len).toBe(hlen);
    }
  });
});
