import { deflateRawSync, inflateRawSync, constants } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDeflateCodec } from '../../src/extensions/index.js';
import { Opcode, Protocol, ReadyState, type CloseInfo } from '../../src/protocol/index.js';
import { agreement } from '../extensions/helpers.js';
import { KEY, rawFrame } from '../framing/helpers.js';
import { deferred, zlibCodec } from './codecs.js';
import { closeOf, parseWire, type WireFrame } from './wire.js';

// The rule: a send accepted while the connection is OPEN reaches the wire before our Close
// frame. With permessage-deflate a send is compressed asynchronously, so the peer's Close
// (or a failure, or our own close()) can be processed while it is still in zlib: the Close
// waits for it, and the connection reports CLOSED only once both are written. ws behaves so
// (its sender queues the Close behind the compression); issue 11 item 6a.

const REPLY = 'reply:'.padEnd(3000, 'r'); // above the compression threshold
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A compressed message as a client sends it (RFC 7692: sync flush, marker stripped). */
function compressedFromClient(text: string): Buffer {
  const z = deflateRawSync(Buffer.from(text), { finishFlush: constants.Z_SYNC_FLUSH });
  return rawFrame({ opcode: Opcode.Text, rsv1: true, payload: z.subarray(0, z.length - 4), mask: KEY });
}
const closeFromClient = (code: number): Buffer => rawFrame({ opcode: Opcode.Close, payload: Buffer.from([code >> 8, code & 0xff]), mask: KEY });

function inflated(frame: WireFrame): string {
  return inflateRawSync(Buffer.concat([frame.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
}

interface Server {
  protocol: Protocol;
  out: Buffer[];
  closes: CloseInfo[];
  /** Results of the reply's write callback. */
  replies: string[];
  ended: number;
  closed: Promise<CloseInfo>;
}

/** A server core that answers every message with REPLY, as a 'message' handler would. */
function replyingServer(codec = createDeflateCodec('server', agreement())): Server {
  let report: (info: CloseInfo) => void = () => {};
  const server: Server = {
    protocol: null as unknown as Protocol,
    out: [],
    closes: [],
    replies: [],
    ended: 0,
    closed: new Promise((resolve) => (report = resolve)),
  };
  server.protocol = new Protocol(
    { role: 'server', codec },
    {
      write: (chunk, cb) => {
        server.out.push(Buffer.from(chunk));
        cb?.(null);
      },
      onMessage: () => {
        const accepted = server.protocol.send(REPLY, false, undefined, (err) => server.replies.push(err ? `error: ${err.message}` : 'ok'));
        server.replies.push(accepted ? 'accepted' : 'refused');
      },
      onClose: (info) => {
        server.closes.push(info);
        report(info);
      },
      endTransport: () => server.ended++,
    },
  );
  return server;
}

describe('a reply sent from the message handler when the peer’s Close came in the same read', () => {
  it('compressed message + Close in one chunk: the compressed reply, then the Close echo', async () => {
    const s = replyingServer();
    s.protocol.receive(Buffer.concat([compressedFromClient('hello'), closeFromClient(1000)]));
    const info = await s.closed;
    const frames = parseWire(s.out);
    expect(frames.map((f) => [f.opcode, f.rsv1])).toEqual([
      [Opcode.Text, true],
      [Opcode.Close, false],
    ]);
    expect(inflated(frames[0]!)).toBe(REPLY);
    expect(closeOf(frames[1]!).code).toBe(1000);
    expect(s.replies).toEqual(['accepted', 'ok']);
    expect(info).toMatchObject({ code: 1000, wasClean: true, remoteInitiated: true });
    expect(s.ended).toBe(1);
  });

  it('plain message + Close in one chunk: the same, the reply still being compressed when the Close is read', async () => {
    const s = replyingServer();
    s.protocol.receive(Buffer.concat([rawFrame({ opcode: Opcode.Text, payload: Buffer.from('hi'), mask: KEY }), closeFromClient(1001)]));
    // The Close was read synchronously, but nothing may be written ahead of the reply.
    expect(s.out).toEqual([]);
    expect(s.protocol.readyState).toBe(ReadyState.CLOSING);
    expect(s.protocol.closed).toBeNull();
    await s.closed;
    const frames = parseWire(s.out);
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
    expect(inflated(frames[0]!)).toBe(REPLY);
    expect(closeOf(frames[1]!).code).toBe(1001);
    expect(s.protocol.readyState).toBe(ReadyState.CLOSED);
  });
});

describe('sends queued behind a compression when closing begins', () => {
  function asyncServer() {
    const codec = deferred(zlibCodec());
    const out: Buffer[] = [];
    const done: string[] = [];
    const closes: CloseInfo[] = [];
    let ended = 0;
    const protocol = new Protocol(
      { role: 'server', codec, compressThreshold: 100 },
      {
        write: (chunk, cb) => {
          out.push(Buffer.from(chunk));
          cb?.(null);
        },
        onClose: (info) => closes.push(info),
        endTransport: () => ended++,
      },
    );
    const sendBig = (tag: string): boolean => protocol.send(tag.repeat(500), false, undefined, (err) => done.push(`${tag}:${err ? 'error' : 'ok'}`));
    return { codec, out, done, closes, protocol, sendBig, ended: () => ended, opcodes: () => parseWire(out).map((f) => f.opcode) };
  }

  it('the peer’s Close: the echo waits for the compressions (and a plain send between them), then CLOSED', () => {
    const t = asyncServer();
    t.sendBig('A');
    t.protocol.send('plain', false, undefined, (err) => t.done.push(`plain:${err ? 'error' : 'ok'}`));
    t.sendBig('B');
    t.protocol.receive(closeFromClient(1000));
    expect(t.out).toEqual([]);
    expect(t.protocol.readyState).toBe(ReadyState.CLOSING);
    expect(t.closes).toEqual([]);
    expect(t.ended()).toBe(0);
    // Closing began: nothing more is accepted.
    expect(t.protocol.send('late', false)).toBe(false);
    expect(t.protocol.ping()).toBe(false);
    t.codec.release(1);
    expect(t.opcodes()).toEqual([Opcode.Text, Opcode.Text]);
    expect(t.closes).toEqual([]);
    t.codec.release();
    expect(t.opcodes()).toEqual([Opcode.Text, Opcode.Text, Opcode.Text, Opcode.Close]);
    expect(t.done).toEqual(['A:ok', 'plain:ok', 'B:ok']);
    expect(t.closes).toMatchObject([{ code: 1000, wasClean: true, remoteInitiated: true }]);
    expect(t.protocol.readyState).toBe(ReadyState.CLOSED);
    expect(t.ended()).toBe(1);
  });

  it('our close() answered by the peer before the compression finished: message, our Close, then CLOSED', () => {
    const t = asyncServer();
    t.sendBig('A');
    t.protocol.close(4000, 'mine');
    t.protocol.receive(closeFromClient(4001));
    expect(t.closes).toEqual([]);
    t.codec.release();
    const frames = parseWire(t.out);
    expect(frames.map((f) => f.opcode)).toEqual([Opcode.Text, Opcode.Close]);
    expect(closeOf(frames[1]!)).toEqual({ code: 4000, reason: 'mine' });
    expect(t.done).toEqual(['A:ok']);
    expect(t.closes).toMatchObject([{ code: 4001, wasClean: true, remoteInitiated: false }]);
  });

  it('a protocol violation by the peer: the message goes out, then Close 1002', () => {
    const t = asyncServer();
    t.sendBig('A');
    t.protocol.receive(rawFrame({ opcode: 5, mask: KEY }));
    expect(t.out).toEqual([]);
    t.codec.release();
    const frames = parseWire(t.out);
    expect(frames.map((f) => [f.opcode, closeOf(f).code])).toEqual([
      [Opcode.Text, expect.any(Number)],
      [Opcode.Close, 1002],
    ]);
    expect(t.done).toEqual(['A:ok']);
    expect(t.closes).toMatchObject([{ code: 1002, wasClean: false }]);
    expect(t.ended()).toBe(1);
  });

  it('the transport ending meanwhile: CLOSED at once, nothing written, the send’s callback gets an error', () => {
    const t = asyncServer();
    t.sendBig('A');
    t.protocol.receive(closeFromClient(1000));
    t.protocol.receiveEof();
    expect(t.closes).toHaveLength(1);
    expect(t.done).toEqual(['A:error']);
    t.codec.release();
    expect(t.out).toEqual([]);
    expect(t.closes).toHaveLength(1);
    expect(t.ended()).toBe(0);
  });

  it('abort() meanwhile: the same', () => {
    const t = asyncServer();
    t.sendBig('A');
    t.protocol.close(1000);
    t.protocol.receive(closeFromClient(1000));
    t.protocol.abort();
    expect(t.closes).toHaveLength(1);
    expect(t.done).toEqual(['A:error']);
    t.codec.release();
    expect(t.out).toEqual([]);
  });

  it('the compression failing meanwhile: our Close still goes out, the send’s callback gets an error', () => {
    const codec = deferred({ ...zlibCodec(), compress: (_d, cb) => cb(new Error('zlib broke')) });
    const out: Buffer[] = [];
    const done: string[] = [];
    const closes: CloseInfo[] = [];
    const protocol = new Protocol(
      { role: 'server', codec, compressThreshold: 100 },
      { write: (chunk) => out.push(Buffer.from(chunk)), onClose: (info) => closes.push(info) },
    );
    protocol.send('x'.repeat(500), false, undefined, (err) => done.push(err ? 'error' : 'ok'));
    protocol.receive(closeFromClient(1000));
    codec.release();
    expect(parseWire(out).map((f) => [f.opcode, closeOf(f).code])).toEqual([[Opcode.Close, 1000]]);
    expect(done).toEqual(['error']);
    expect(closes).toHaveLength(1);
  });
});
