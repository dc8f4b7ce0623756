/**
 * createWebSocketStream's data paths, as ws 8 has them: which messages become which chunks
 * (readableObjectMode, encoding), which chunks become which messages (decodeStrings), the
 * options ws overrides (objectMode), writes made while CONNECTING, and a whole file piped
 * through the stream to an echo server and back. Each scenario runs with sockwire's
 * WebSocket and stream and with ws's, against the same sockwire echo server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable, type DuplexOptions } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../server/helpers.js';
import { clientOf, IMPLS, listen, record, settled, startPeer, STREAM_EVENTS, streamOf, type Impl, type Peer } from './stream-helpers.js';

interface Received {
  text: string;
  isBinary: boolean;
}

let peer: Peer;
beforeAll(async () => {
  peer = await startPeer('sockwire');
});
afterAll(() => peer.close());

/**
 * A client of `impl` wrapped in a stream, whose server end echoes every message (same type)
 * and records what it received.
 */
function echoRun(impl: Impl, options?: DuplexOptions) {
  const { url, conn } = peer.expect();
  const ws = clientOf(impl, url);
  const stream = streamOf(impl, ws, options);
  const received: Received[] = [];
  const server = conn.then((s) => {
    listen(s, 'message', (data: Buffer, isBinary: boolean) => {
      received.push({ text: data.toString(), isBinary });
      s.send(data, { binary: isBinary });
    });
    return s;
  });
  return { ws, stream, received, server };
}

async function both<T>(scenario: (impl: Impl) => Promise<T>): Promise<Record<Impl, T>> {
  const out: Partial<Record<Impl, T>> = {};
  for (const impl of IMPLS) out[impl] = await scenario(impl);
  return out as Record<Impl, T>;
}

/** How a chunk looks: its type and content. */
function describeChunk(chunk: unknown): string {
  if (typeof chunk === 'string') return `string:${chunk}`;
  if (Buffer.isBuffer(chunk)) return `buffer:${chunk.toString()}`;
  return `other:${Object.prototype.toString.call(chunk)}`;
}

/** Sends a text and a binary message from the server and collects the two chunks the client stream reads. */
async function readTwo(impl: Impl, options: DuplexOptions): Promise<string[]> {
  const { url, conn } = peer.expect();
  const ws = clientOf(impl, url);
  const stream = streamOf(impl, ws, options);
  const chunks: string[] = [];
  const two = new Promise<void>((resolve) =>
    stream.on('data', (c: unknown) => {
      chunks.push(describeChunk(c));
      if (chunks.length === 2) resolve();
    }),
  );
  const s = await conn;
  s.send('héllo');
  s.send(Buffer.from('bytes'));
  await two;
  stream.destroy();
  await waitFor(stream, 'close');
  return chunks;
}

describe('messages → chunks', () => {
  it('by default every message is a Buffer chunk, text ones included', async () => {
    const r = await both((impl) => readTwo(impl, {}));
    expect(r.ws).toEqual(['buffer:héllo', 'buffer:bytes']);
    expect(r.sockwire).toEqual(r.ws);
  });

  it('readableObjectMode delivers each message as one chunk: text as a string, binary as the Buffer', async () => {
    const r = await both((impl) => readTwo(impl, { readableObjectMode: true }));
    expect(r.ws).toEqual(['string:héllo', 'buffer:bytes']);
    expect(r.sockwire).toEqual(r.ws);
  });

  it('the encoding option decodes every chunk, binary ones included, to strings', async () => {
    const r = await both((impl) => readTwo(impl, { encoding: 'utf8' }));
    expect(r.ws).toEqual(['string:héllo', 'string:bytes']);
    expect(r.sockwire).toEqual(r.ws);
  });

  it('objectMode is ignored on both sides: chunks stay bytes and a written object is refused', async () => {
    const r = await both(async (impl) => {
      const run = echoRun(impl, { objectMode: true });
      let code: unknown;
      try {
        run.stream.write({ not: 'bytes' });
      } catch (err) {
        code = (err as { code?: unknown }).code;
      }
      const modes = [run.stream.readableObjectMode, run.stream.writableObjectMode];
      const chunks = await readTwoFrom(run);
      return { code, modes, chunks };
    });
    expect(r.ws).toEqual({ code: 'ERR_INVALID_ARG_TYPE', modes: [false, false], chunks: ['buffer:text', 'buffer:bin'] });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('the message listener passes the data as the WebSocket delivers it (binaryType fragments, object mode)', async () => {
    const r = await both(async (impl) => {
      const { url, conn } = peer.expect();
      const ws = clientOf(impl, url);
      ws.binaryType = 'fragments';
      const stream = streamOf(impl, ws, { readableObjectMode: true });
      const got = new Promise<unknown>((resolve) => stream.once('data', resolve));
      (await conn).send(Buffer.from('frag'));
      const chunk = await got;
      stream.destroy();
      await waitFor(stream, 'close');
      return Array.isArray(chunk) ? chunk.map((b: Buffer) => b.toString()) : describeChunk(chunk);
    });
    expect(r.ws).toEqual(['frag']);
    expect(r.sockwire).toEqual(r.ws);
  });
});

/** Writes 'text' and 'bin' (as Buffers) through an echo run and reads the two echoes. */
async function readTwoFrom(run: ReturnType<typeof echoRun>): Promise<string[]> {
  const chunks: string[] = [];
  const two = new Promise<void>((resolve) =>
    run.stream.on('data', (c: unknown) => {
      chunks.push(describeChunk(c));
      if (chunks.length === 2) resolve();
    }),
  );
  run.stream.write('text');
  run.stream.write(Buffer.from('bin'));
  await two;
  run.stream.end();
  await waitFor(run.stream, 'close');
  return chunks;
}

describe('chunks → messages', () => {
  it('written chunks are sent as binary messages, strings included (decodeStrings makes them Buffers)', async () => {
    const r = await both(async (impl) => {
      const run = echoRun(impl);
      await readTwoFrom(run);
      return run.received;
    });
    expect(r.ws).toEqual([
      { text: 'text', isBinary: true },
      { text: 'bin', isBinary: true },
    ]);
    expect(r.sockwire).toEqual(r.ws);
  });

  it('with decodeStrings: false a written string is sent as a text message', async () => {
    const r = await both(async (impl) => {
      const run = echoRun(impl, { decodeStrings: false });
      const chunks = await readTwoFrom(run);
      return { received: run.received, chunks };
    });
    expect(r.ws).toEqual({
      received: [
        { text: 'text', isBinary: false },
        { text: 'bin', isBinary: true },
      ],
      chunks: ['buffer:text', 'buffer:bin'],
    });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('writes made while CONNECTING wait for the handshake and arrive in order, then end() closes', async () => {
    const r = await both(async (impl) => {
      const run = echoRun(impl);
      const log: string[] = [];
      record(log, 'd', run.stream, STREAM_EVENTS);
      const states: number[] = [];
      const callbacks: string[] = [];
      for (const word of ['one', 'two', 'three']) {
        states.push(run.ws.readyState);
        run.stream.write(word, (err) => callbacks.push(`${word}:${err ?? 'ok'}`));
      }
      run.stream.end();
      run.stream.resume();
      await settled(log, 'd:close');
      return { states, callbacks, received: run.received.map((m) => m.text), log };
    });
    expect(r.ws).toEqual({
      states: [0, 0, 0],
      callbacks: ['one:ok', 'two:ok', 'three:ok'],
      received: ['one', 'two', 'three'],
      log: ['d:prefinish', 'd:finish', 'd:end', 'd:close'],
    });
    expect(r.sockwire).toEqual(r.ws);
  });
});

describe('pipeline()', () => {
  let dir: string;
  let file: string;
  let digest: string;
  const SIZE = 3 * 1024 * 1024 + 777;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'sockwire-stream-'));
    file = join(dir, 'data.bin');
    const bytes = randomBytes(SIZE);
    writeFileSync(file, bytes);
    digest = createHash('sha256').update(bytes).digest('hex');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a file piped through the stream to an echo server comes back byte for byte, and the pipeline completes', async () => {
    const r = await both(async (impl) => {
      const run = echoRun(impl);
      const hash = createHash('sha256');
      let bytes = 0;
      const sink = new Writable({
        write(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          cb();
        },
      });
      // Small reads make many messages: order across them is checked by the digest.
      await pipeline(createReadStream(file, { highWaterMark: 16 * 1024 }), run.stream, sink);
      return { bytes, digest: hash.digest('hex'), messages: run.received.length, destroyed: run.stream.destroyed };
    });
    expect(r.ws).toEqual({ bytes: SIZE, digest, messages: Math.ceil(SIZE / (16 * 1024)), destroyed: true });
    expect(r.sockwire).toEqual(r.ws);
  });
});
