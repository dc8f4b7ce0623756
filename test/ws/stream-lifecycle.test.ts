/**
 * createWebSocketStream's lifecycle, as ws 8 has it: end() → closing handshake, destroy() →
 * terminate, the WebSocket's close ending the readable side, its errors destroying the
 * stream, and a stream error destroying the connection. Each scenario runs with sockwire
 * (sockwire's WebSocket and stream) and with ws (ws's WebSocket and ws's own stream) against
 * the same sockwire server; the event logs must be identical, and equal to what ws does.
 */
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebSocket } from '../../src/index.js';
import { readHead, startNetServer, waitFor } from '../server/helpers.js';
import { clientOf, IMPLS, listen, record, settled, socketOf, startPeer, STREAM_EVENTS, streamOf, WS_EVENTS, type AnyWebSocket, type Impl, type Peer } from './stream-helpers.js';

let peer: Peer;
beforeAll(async () => {
  peer = await startPeer('sockwire');
});
afterAll(() => peer.close());

interface Run {
  ws: AnyWebSocket;
  stream: Duplex;
  /** The client's WebSocket ('ws:…') and stream ('d:…') events, in order. */
  log: string[];
  /** The server's end of the connection, once it arrived. */
  server: Promise<AnyWebSocket>;
  /** The close code the server's end reports. */
  serverCode: Promise<number>;
}

/** Opens a client of `impl` to the sockwire peer, wraps it in a stream and records both. */
function open(impl: Impl): Run {
  const { url, conn: server } = peer.expect();
  const ws = clientOf(impl, url);
  const stream = streamOf(impl, ws);
  const log: string[] = [];
  record(log, 'ws', ws, WS_EVENTS);
  record(log, 'd', stream, STREAM_EVENTS);
  // Generous deadline: some scenarios move tens of MiB first on a shared, busy machine.
  const serverCode = server.then(async (s) => (await waitFor<[number]>(s, 'close', 15_000))[0]);
  return { ws, stream, log, server, serverCode };
}

/** Runs `scenario` once per implementation; results by implementation. */
async function both<T>(scenario: (impl: Impl) => Promise<T>): Promise<Record<Impl, T>> {
  const out: Partial<Record<Impl, T>> = {};
  for (const impl of IMPLS) out[impl] = await scenario(impl);
  return out as Record<Impl, T>;
}

describe('ending the writable side', () => {
  it('end() closes the connection (the peer sees 1005, no status), then the stream ends and closes', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      const got: string[] = [];
      void run.server.then((s) => listen(s, 'message', (m: Buffer) => got.push(m.toString())));
      run.stream.resume();
      run.stream.end('last words');
      await settled(run.log, 'd:close');
      return { log: run.log, code: await run.serverCode, got, readyState: run.ws.readyState };
    });
    expect(r.ws).toEqual({
      log: ['ws:open', 'd:prefinish', 'd:finish', 'ws:close(1005)', 'd:end', 'd:close'],
      code: 1005,
      got: ['last words'],
      readyState: 3,
    });
    expect(r.sockwire).toEqual(r.ws);
  });

  it("'finish' comes once our side of the closing handshake is out, before the WebSocket's 'close'", async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      await waitFor(run.ws, 'open');
      let stateAtFinish = -1;
      run.stream.on('finish', () => (stateAtFinish = run.ws.readyState));
      run.stream.resume();
      run.stream.end();
      await settled(run.log, 'd:close');
      return { stateAtFinish, socketEnded: socketOf(run.ws).writableFinished };
    });
    expect(r.ws).toEqual({ stateAtFinish: 2, socketEnded: true });
    expect(r.sockwire).toEqual(r.ws);
  });
});

describe('the peer closing', () => {
  it("the WebSocket's 'close' ends the readable side only: the stream stays open until end()", async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      void run.server.then((s) => s.close(4000, 'go away'));
      run.stream.resume();
      await settled(run.log, 'd:end');
      const before = [...run.log];
      const destroyedBefore = run.stream.destroyed;
      run.stream.end();
      await settled(run.log, 'd:close');
      return { before, destroyedBefore, after: run.log.slice(before.length), code: await run.serverCode };
    });
    expect(r.ws).toEqual({
      before: ['ws:open', 'ws:close(4000)', 'd:end'],
      destroyedBefore: false,
      // The socket's writing side already ended: _final calls back at once.
      after: ['d:prefinish', 'd:finish', 'd:close'],
      code: 4000,
    });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('a write after the connection closed fails, and the stream is destroyed with that error', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      void run.server.then((s) => s.close(4000));
      run.stream.resume();
      await settled(run.log, 'd:end');
      let writeErr: Error | null | undefined;
      run.stream.write('late', (err) => (writeErr = err));
      await settled(run.log, 'd:close');
      return { log: run.log, writeErr: writeErr?.message };
    });
    expect(r.ws).toEqual({
      log: ['ws:open', 'ws:close(4000)', 'd:end', 'd:error(WebSocket is not open: readyState 3 (CLOSED))', 'd:close'],
      writeErr: 'WebSocket is not open: readyState 3 (CLOSED)',
    });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('a dropped connection (1006) ends the readable side; the stream is not destroyed', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      void run.server.then((s) => s.terminate());
      run.stream.resume();
      await settled(run.log, 'd:end');
      return { log: run.log, destroyed: run.stream.destroyed, writableFinished: run.stream.writableFinished };
    });
    expect(r.ws).toEqual({ log: ['ws:open', 'ws:close(1006)', 'd:end'], destroyed: false, writableFinished: false });
    expect(r.sockwire).toEqual(r.ws);
  });
});

describe('destroying the stream', () => {
  it('destroy(err) terminates the connection (the peer sees 1006) and reports err after the WebSocket closed', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      await waitFor(run.ws, 'open');
      run.stream.destroy(new Error('boom'));
      await settled(run.log, 'd:close');
      return { log: run.log, code: await run.serverCode };
    });
    expect(r.ws).toEqual({ log: ['ws:open', 'ws:close(1006)', 'd:error(boom)', 'd:close'], code: 1006 });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('destroy() without an error closes quietly', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      await waitFor(run.ws, 'open');
      run.stream.destroy();
      await settled(run.log, 'd:close');
      return { log: run.log, code: await run.serverCode };
    });
    expect(r.ws).toEqual({ log: ['ws:open', 'ws:close(1006)', 'd:close'], code: 1006 });
    expect(r.sockwire).toEqual(r.ws);
  });

  it("destroy() while CONNECTING aborts the handshake; the stream reports the WebSocket's error", async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      run.stream.destroy(new Error('not this one'));
      await settled(run.log, 'd:close');
      return { log: run.log, readyState: run.ws.readyState };
    });
    const msg = 'WebSocket was closed before the connection was established';
    expect(r.ws).toEqual({ log: [`ws:error(${msg})`, 'ws:close(1006)', `d:error(${msg})`, 'd:close'], readyState: 3 });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('destroy() after the connection closed calls back at once and emits close on the next tick', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      void run.server.then((s) => s.close(4001));
      run.stream.resume();
      await settled(run.log, 'd:end');
      run.stream.destroy(new Error('afterwards'));
      await settled(run.log, 'd:close');
      return run.log;
    });
    expect(r.ws).toEqual(['ws:open', 'ws:close(4001)', 'd:end', 'd:error(afterwards)', 'd:close']);
    expect(r.sockwire).toEqual(r.ws);
  });
});

describe('errors', () => {
  it("a WebSocket error destroys the stream with that very error, after the connection closed (the peer sees the Close sent, 1002)", async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      let wsErr: Error | undefined;
      let streamErr: Error | undefined;
      listen(run.ws, 'error', (err: Error) => (wsErr = err));
      run.stream.on('error', (err) => (streamErr = err));
      // Opcode 3 is reserved: the client must fail the connection with 1002.
      void run.server.then((s) => socketOf(s).write(Buffer.from([0x83, 0x00])));
      run.stream.resume();
      await settled(run.log, 'd:close');
      // Error texts are each library's own; the order of events is what is compared.
      const log = run.log.map((e) => e.replace(/error\(.*\)$/, 'error'));
      return { log, same: wsErr !== undefined && streamErr === wsErr, code: await run.serverCode };
    });
    expect(r.ws).toEqual({ log: ['ws:open', 'ws:error', 'ws:close(1006)', 'd:error', 'd:close'], same: true, code: 1002 });
    expect(r.sockwire).toEqual(r.ws);
  });

  it("a refused handshake fails the stream with the WebSocket's error; writes and end() made meanwhile never complete", async () => {
    const refuser = await startNetServer((socket) => {
      void readHead(socket).then(() => socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'));
    });
    try {
      const r = await both(async (impl) => {
        const ws = clientOf(impl, `ws://127.0.0.1:${refuser.port}`);
        const stream = streamOf(impl, ws);
        const log: string[] = [];
        record(log, 'ws', ws, WS_EVENTS);
        record(log, 'd', stream, STREAM_EVENTS);
        let wsErr: Error | undefined;
        let streamErr: Error | undefined;
        listen(ws, 'error', (err: Error) => (wsErr = err));
        stream.on('error', (err) => (streamErr = err));
        const writes: string[] = [];
        stream.write('early', (err) => writes.push(err ? 'failed' : 'ok'));
        stream.end();
        await settled(log, 'd:close');
        return { log: log.map((e) => e.replace(/error\(.*\)$/, 'error')), same: wsErr !== undefined && streamErr === wsErr, writes };
      });
      expect(r.ws).toEqual({ log: ['ws:error', 'ws:close(1006)', 'd:error', 'd:close'], same: true, writes: [] });
      expect(r.sockwire).toEqual(r.ws);
    } finally {
      await refuser.close();
    }
  });

  it("after a WebSocket error the stream does not terminate: the Close frame queued behind unsent data still reaches the peer", async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      const server = (await run.server) as WebSocket;
      await waitFor(run.ws, 'open');
      // The peer stops reading and the client sends more than the kernel buffers hold, so
      // what the client writes next (its Close frame) waits in the socket's own buffer.
      server.pause();
      for (let i = 0; i < 32; i++) run.ws.send(Buffer.alloc(1024 * 1024));
      const backlog = socketOf(run.ws).writableLength > 0;
      const wsError = waitFor(run.ws, 'error', 10_000);
      socketOf(server).write(Buffer.from([0x83, 0x00])); // reserved opcode: the client fails with 1002
      await wsError;
      // Terminating now would drop the queued Close; the peer would see 1006.
      server.resume();
      await settled(run.log, 'd:close', 10_000);
      return { backlog, code: await run.serverCode };
    });
    expect(r.ws).toEqual({ backlog: true, code: 1002 });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('a stream error (a chunk the readable cannot take) destroys the stream and terminates the connection', async () => {
    const r = await both(async (impl) => {
      const run = open(impl);
      // An ArrayBuffer is not a valid chunk for a byte-mode readable: push() errors.
      run.ws.binaryType = 'arraybuffer';
      void run.server.then((s) => s.send(Buffer.from('bin')));
      run.stream.resume();
      await settled(run.log, 'd:close');
      return { log: run.log.map((e) => e.replace(/d:error\(.*\)$/, 'd:error')), code: await run.serverCode };
    });
    expect(r.ws).toEqual({ log: ['ws:open', 'd:error', 'ws:close(1006)', 'd:close'], code: 1006 });
    expect(r.sockwire).toEqual(r.ws);
  });

  it('an error nobody listens for still throws, and the stream is destroyed', async () => {
    const r = await both(async (impl) => {
      const { url, conn: server } = peer.expect();
      const ws = clientOf(impl, url);
      const stream = streamOf(impl, ws);
      await waitFor(ws, 'open');
      const err = new Error('unheard');
      let thrown: unknown;
      try {
        stream.emit('error', err);
      } catch (e) {
        thrown = e;
      }
      const closed = waitFor(stream, 'close');
      const s = await server;
      const [code] = await waitFor<[number]>(s, 'close');
      await closed;
      return { rethrown: thrown === err, destroyed: stream.destroyed, code, errorListeners: stream.listenerCount('error') };
    });
    expect(r.ws).toEqual({ rethrown: true, destroyed: true, code: 1006, errorListeners: 0 });
    expect(r.sockwire).toEqual(r.ws);
  });
});

describe('the server side', () => {
  it("a stream over the server's connection: end() closes with 1005 and the stream closes", async () => {
    const r = await both(async (impl) => {
      const server = await startPeer(impl);
      try {
        const { url, conn } = server.expect();
        const client = clientOf('ws', url);
        const clientClosed = waitFor<[number]>(client, 'close');
        const clientOpen = waitFor(client, 'open');
        const ws = await conn;
        const stream = streamOf(impl, ws);
        const log: string[] = [];
        record(log, 'ws', ws, WS_EVENTS);
        record(log, 'd', stream, STREAM_EVENTS);
        const got: string[] = [];
        stream.on('data', (c: Buffer) => got.push(c.toString()));
        const gotAll = new Promise<void>((resolve) => stream.on('data', () => got.length === 2 && resolve()));
        await clientOpen;
        client.send('one');
        client.send(Buffer.from('two'));
        await gotAll;
        stream.end();
        await settled(log, 'd:close');
        return { log, got, clientCode: (await clientClosed)[0] };
      } finally {
        await server.close();
      }
    });
    expect(r.ws).toEqual({
      log: ['d:prefinish', 'd:finish', 'ws:close(1005)', 'd:end', 'd:close'],
      got: ['one', 'two'],
      clientCode: 1005,
    });
    expect(r.sockwire).toEqual(r.ws);
  });
});

