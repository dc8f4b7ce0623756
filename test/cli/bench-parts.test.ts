import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FIXED_MASK, ReplyError, ReplyParser, buildClientFrame, makePayload } from '../../src/cli/bench/frames.js';
import { Histogram } from '../../src/cli/bench/histogram.js';
import { Pacer } from '../../src/cli/bench/pacer.js';
import { escapeHtml } from '../../src/cli/bench/report-html.js';
import { FrameDecoder, type ProtocolError } from '../../src/framing/index.js';
import { encodeFragments, encodeFrame } from '../../src/framing/encoder.js';

function decodeAsServer(bytes: Buffer): Array<{ opcode: number; fin: boolean; payload: Buffer }> {
  const frames: Array<{ opcode: number; fin: boolean; payload: Buffer }> = [];
  let error: ProtocolError | undefined;
  const d = new FrameDecoder(
    {
      onDataFrame: (payload, fin, opcode) => frames.push({ opcode, fin, payload: Buffer.from(payload) }),
      onControlFrame: (opcode, payload) => frames.push({ opcode, fin: true, payload: Buffer.from(payload) }),
      onDecodeError: (e) => (error = e),
    },
    { role: 'server', maxPayload: 0 },
  );
  d.push(bytes);
  if (error) throw error;
  return frames;
}

describe('bench frames', () => {
  it('builds masked frames that sockwire’s strict decoder accepts, at every length-encoding edge', () => {
    for (const size of [1, 125, 126, 65535, 65536, 70000]) {
      for (const text of [true, false]) {
        const payload = makePayload(size, text);
        const frame = buildClientFrame(text ? 1 : 2, payload);
        expect(frame.includes(FIXED_MASK)).toBe(true);
        const [f, ...more] = decodeAsServer(frame);
        expect(more).toEqual([]);
        expect(f).toMatchObject({ opcode: text ? 1 : 2, fin: true });
        expect(f!.payload.equals(payload)).toBe(true);
      }
    }
  });

  it('counts the same messages however the stream is split, with control frames interleaved', () => {
    const size = 300;
    const msg = makePayload(size, false);
    const stream = Buffer.concat([
      ...encodeFrame(2, msg),
      ...encodeFrame(9, Buffer.from('hi')),
      ...encodeFragments(1, makePayload(size, true), 100),
      ...encodeFrame(2, msg),
    ]);
    // A ping inside a fragmented message is legal (§5.4).
    const frag = encodeFragments(2, msg, 128);
    const withPingInside = Buffer.concat([frag[0]!, ...encodeFrame(10, Buffer.alloc(0)), ...frag.slice(1)]);
    const all = Buffer.concat([stream, withPingInside]);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: all.length }), { maxLength: 12 }), (cuts) => {
        const pings: string[] = [];
        const p = new ReplyParser(size, (b) => pings.push(b.toString()));
        const points = [...new Set([0, ...cuts, all.length])].sort((a, b) => a - b);
        let n = 0;
        for (let i = 1; i < points.length; i++) n += p.push(all.subarray(points[i - 1], points[i]));
        expect(n).toBe(4);
        expect(pings).toEqual(['hi']);
        expect(p.payloadBytes).toBe(4 * size);
        expect(p.wrongSize).toBe(0);
      }),
    );
  });

  it('notes replies of the wrong size and the server’s close code', () => {
    const p = new ReplyParser(10, () => {});
    expect(p.push(Buffer.concat([...encodeFrame(1, Buffer.from('short')), ...encodeFrame(8, Buffer.from([0x03, 0xe9]))]))).toBe(1);
    expect(p.wrongSize).toBe(1);
    expect(p.closeCode).toBe(1001);
    const q = new ReplyParser(10, () => {});
    q.push(Buffer.concat(encodeFrame(8, Buffer.alloc(0))));
    expect(q.closeCode).toBe(1005);
  });

  it('rejects what a server must never send', () => {
    const bad: Array<[string, Buffer]> = [
      ['masked', Buffer.concat(encodeFrame(1, Buffer.from('x'), { mask: true }))],
      ['rsv1', Buffer.concat(encodeFrame(1, Buffer.from('x'), { rsv1: true }))],
      ['reserved opcode', Buffer.from([0x83, 0x00])],
      ['reserved control opcode', Buffer.from([0x8b, 0x00])],
      ['lone continuation', Buffer.from([0x80, 0x00])],
      ['message inside a message', Buffer.from([0x01, 0x00, 0x82, 0x00])],
      ['fragmented ping', Buffer.from([0x09, 0x00])],
      ['long ping', Buffer.concat([Buffer.from([0x89, 126, 0, 126]), Buffer.alloc(126)])],
      ['2^64 length', Buffer.from([0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
    ];
    for (const [why, bytes] of bad) {
      expect(() => new ReplyParser(1, () => {}).push(bytes), why).toThrow(ReplyError);
    }
  });
});

describe('bench histogram', () => {
  it('has ordered quantiles within 1/64 above the exact ones, never above max', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 4_000_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (ms) => {
        const h = new Histogram();
        for (const v of ms) h.recordMs(v);
        const us = ms.map((v) => Math.round(v * 1000)).sort((a, b) => a - b);
        let prev = 0;
        for (const q of [0.5, 0.9, 0.99, 0.999, 1]) {
          // Back to whole µs: the ms value is that divided by 1000, give or take rounding.
          const got = Math.round(h.quantileMs(q) * 1000);
          const exact = us[Math.max(0, Math.ceil(q * us.length) - 1)]!;
          expect(got).toBeGreaterThanOrEqual(exact);
          expect(got).toBeLessThanOrEqual(exact + exact / 64);
          expect(got).toBeGreaterThanOrEqual(prev);
          prev = got;
        }
        expect(h.quantileMs(1)).toBe(h.max / 1000);
        expect(h.max).toBe(us[us.length - 1]);
        expect(h.buckets().reduce((s, [, c]) => s + c, 0)).toBe(ms.length);
      }),
    );
  });

  it('clamps absurd values into the last bucket and is empty after reset', () => {
    const h = new Histogram();
    h.recordMs(1e12);
    h.recordMs(-5);
    expect(h.count).toBe(2);
    expect(h.quantileMs(1)).toBe((2 ** 32 - 1) / 1000);
    expect(h.quantileMs(0.5)).toBe(0);
    h.reset();
    expect(h.count).toBe(0);
    expect(h.quantileMs(0.99)).toBe(0);
    expect(h.buckets()).toEqual([]);
  });
});

describe('bench pacer', () => {
  it('never grants more than rate × elapsed, nor more than asked', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 100 }),
        (rate, steps) => {
          const pacer = new Pacer(rate, 0);
          let now = 0;
          let granted = 0;
          for (const [dt, want] of steps) {
            now += dt;
            const k = pacer.take(want, now);
            expect(k).toBeGreaterThanOrEqual(0);
            expect(k).toBeLessThanOrEqual(want);
            granted += k;
            expect(granted).toBeLessThanOrEqual(Math.floor((rate * now) / 1000));
          }
        },
      ),
    );
  });
});

it('escapes HTML', () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});
