import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import WsWebSocket from 'ws';
import { MAX_CLOSE_REASON_BYTES, cutCloseReason, encodeClosePayload, isValidUtf8 } from '../../src/framing/index.js';
import { WebSocket } from '../../src/index.js';
import { Protocol } from '../../src/protocol/index.js';
import { recordingProtocol } from '../protocol/pair.js';
import { waitFor } from '../server/helpers.js';
import { startRawServer } from '../websocket/raw-server.js';
import { failOnUncaught, startServer } from './helpers.js';

/*
 * A Close frame's reason is at most 123 bytes of UTF-8 (§5.5: control payloads ≤ 125 bytes, 2 of
 * them the code). Reasons sockwire makes itself are cut to fit on a character boundary; reasons an
 * application passes to close() are refused beyond 123 bytes, as ws and browsers refuse them.
 */

failOnUncaught();

/** Any UTF-16 string, lone surrogates included (they are written as U+FFFD); lengths up to the max, not fast-check's small default. */
const anyString = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 200, size: 'max' });
/** Mostly multi-byte text: 2-, 3- and 4-byte characters mixed with ASCII. */
const wideString = fc.string({ unit: fc.constantFrom('a', 'é', '€', '😀', '\u{10FFFF}', '\u0800'), maxLength: 150, size: 'max' });
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('cutCloseReason', () => {
  it('gives a prefix of the reason, at most 123 bytes, valid UTF-8, a byte prefix of the whole, and the longest such', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, wideString), fc.integer({ min: 0, max: 130 }), (reason, maxArg) => {
        const max = maxArg === 130 ? MAX_CLOSE_REASON_BYTES : maxArg;
        const cut = maxArg === 130 ? cutCloseReason(reason) : cutCloseReason(reason, max);
        const bytes = utf8(cut);
        expect(reason.startsWith(cut)).toBe(true);
        expect(bytes.length).toBeLessThanOrEqual(max);
        expect(isValidUtf8(bytes)).toBe(true);
        expect(utf8(reason).subarray(0, bytes.length).equals(bytes)).toBe(true);
        if (cut === reason) return;
        // Maximal: the next character (a whole surrogate pair, when it is one) would not fit.
        const next = String.fromCodePoint(reason.codePointAt(cut.length)!);
        const nextUnits = reason.slice(cut.length, cut.length + next.length) === next ? next.length : 1;
        expect(utf8(reason.slice(0, cut.length + nextUnits)).length).toBeGreaterThan(max);
      }),
      { numRuns: 1000 },
    );
  });

  it('leaves a reason of at most 123 bytes alone', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, wideString), (reason) => {
        fc.pre(utf8(reason).length <= 123);
        expect(cutCloseReason(reason)).toBe(reason);
      }),
    );
  });

  it("cuts the issue's example by bytes: 'é' × 100 (200 bytes) becomes 'é' × 61 (122 bytes); an emoji is never split", () => {
    expect(cutCloseReason('é'.repeat(100))).toBe('é'.repeat(61));
    expect(cutCloseReason('😀'.repeat(40))).toBe('😀'.repeat(30));
    expect(cutCloseReason('a' + '😀'.repeat(40))).toBe('a' + '😀'.repeat(30));
    expect(cutCloseReason('x'.repeat(200))).toBe('x'.repeat(123));
  });

  it('encodeClosePayload never exceeds 125 bytes, whatever reason it is given', () => {
    fc.assert(
      fc.property(fc.oneof(anyString, wideString), (reason) => {
        const payload = encodeClosePayload(1000, reason);
        expect(payload.length).toBeLessThanOrEqual(125);
        expect(isValidUtf8(payload.subarray(2))).toBe(true);
      }),
    );
  });
});

/** The Close frame a server-role core wrote (unmasked, one frame), as code and reason bytes. */
function closeFrameOf(out: Buffer[]): { length: number; code: number; reason: Buffer } {
  const bytes = Buffer.concat(out);
  expect(bytes[0]).toBe(0x88);
  const length = bytes[1]! & 0x7f;
  return { length, code: bytes.readUInt16BE(2), reason: bytes.subarray(4, 2 + length) };
}

describe('Protocol.fail', () => {
  it.each([
    ['é × 100 (200 bytes)', 'é'.repeat(100), 'é'.repeat(61)],
    ['😀 × 40 (160 bytes)', '😀'.repeat(40), '😀'.repeat(30)],
    ['€ × 50 (150 bytes)', '€'.repeat(50), '€'.repeat(41)],
  ])('%s: the Close frame fits in 125 bytes, its reason cut on a character boundary', (_name, reason, expected) => {
    const side = recordingProtocol({ role: 'server' });
    side.protocol.fail(1008, reason);
    const frame = closeFrameOf(side.out);
    expect(frame.length).toBeLessThanOrEqual(125);
    expect(frame.code).toBe(1008);
    expect(frame.reason.toString('utf8')).toBe(expected);
    expect(isValidUtf8(frame.reason)).toBe(true);
    // The local side hears the same reason it sent.
    expect(side.closes[0]?.reason).toBe(expected);
  });

  it('Protocol.close still refuses a reason over 123 bytes (an application error, not cut)', () => {
    const side = recordingProtocol({ role: 'server' });
    expect(() => side.protocol.close(1000, 'é'.repeat(62))).toThrow(RangeError);
    expect(side.protocol.close(1000, 'é'.repeat(61) + 'a')).toBe(true);
    expect(closeFrameOf(side.out).length).toBe(125);
  });

  it('a ws client receives the cut reason intact (a 202-byte Close frame would be its protocol error 1002)', async () => {
    let core: Protocol | null = null;
    const server = await startRawServer({
      parse: false,
      onUpgrade: ({ socket }) => {
        core = new Protocol({ role: 'server' }, { write: (b, cb) => socket.write(b, cb), endTransport: () => socket.end() });
        socket.on('data', (c: Buffer) => core!.receive(c));
        socket.on('end', () => core!.receiveEof());
        socket.resume();
        core.fail(1008, 'é'.repeat(100));
      },
    });
    const client = new WsWebSocket(`ws://127.0.0.1:${server.port}`);
    const errors: Error[] = [];
    client.on('error', (e) => errors.push(e));
    const [code, reason] = await waitFor<[number, Buffer]>(client, 'close', 10_000);
    expect(errors).toEqual([]);
    expect(code).toBe(1008);
    expect(reason.toString()).toBe('é'.repeat(61));
    expect(core).not.toBeNull();
    await server.close();
  });
});

describe('the faces refuse an application reason over 123 bytes, as ws does', () => {
  it.each([
    ['sockwire', (url: string) => new WebSocket(url)],
    ['ws', (url: string) => new WsWebSocket(url)],
  ] as const)('%s: close(1000, 124 bytes) throws RangeError; 123 bytes reaches the server whole', async (_impl, make) => {
    const s = await startServer();
    const serverSide = waitFor<[import('../../src/index.js').WebSocket]>(s.wss, 'connection');
    const client = make(`ws://127.0.0.1:${s.port}`) as unknown as { close(code: number, reason: string): void; on(e: string, f: (...a: unknown[]) => void): void };
    client.on('error', () => {});
    await waitFor(client as never, 'open');
    const [peer] = await serverSide;
    expect(() => client.close(1000, 'é'.repeat(62))).toThrow(RangeError);
    const heard = waitFor<[number, Buffer]>(peer, 'close', 10_000);
    client.close(1000, 'é'.repeat(61) + 'a');
    const [code, reason] = await heard;
    expect(code).toBe(1000);
    expect(reason.toString()).toBe('é'.repeat(61) + 'a');
    await s.close();
  });

  it('wss.shutdown() with a reason over 123 bytes throws before closing anything', async () => {
    const s = await startServer();
    const connected = waitFor(s.wss, 'connection');
    const client = new WebSocket(`ws://127.0.0.1:${s.port}`);
    await waitFor(client, 'open');
    await connected;
    expect(() => s.wss.shutdown(1001, '€'.repeat(42))).toThrow(RangeError);
    expect(client.readyState).toBe(WebSocket.OPEN);
    // Nothing was shut: the server still accepts connections.
    const second = new WebSocket(`ws://127.0.0.1:${s.port}`);
    await waitFor(second, 'open');
    second.terminate();
    const closed = waitFor<[number, Buffer]>(client, 'close', 10_000);
    await s.wss.shutdown(1001, '€'.repeat(41));
    const [code, reason] = await closed;
    expect(code).toBe(1001);
    expect(reason.toString()).toBe('€'.repeat(41));
  });
});
