/**
 * `createWebSocketStream(ws, options)`: a Node.js `Duplex` over a WebSocket, behaving as
 * `ws` 8's does. Messages received become the readable side's chunks; chunks written
 * become messages; ending the writable side starts the closing handshake; destroying the
 * stream drops the connection. Both directions keep backpressure: a readable buffer past
 * its high-water mark pauses the WebSocket, and a write completes only once the message
 * has been written to the socket.
 */
import { Duplex, type DuplexOptions } from 'node:stream';
import type { WebSocket } from './websocket.js';

type Callback = (err?: Error | null) => void;

/**
 * Wraps `ws` in a `Duplex`. `options` go to the `Duplex` constructor, except those `ws`
 * overrides: the stream never destroys itself on end or error and emits `'close'` itself
 * (`autoDestroy`/`emitClose` false), and only its readable side may be in object mode
 * (`readableObjectMode`): `objectMode` and `writableObjectMode` are ignored, so written
 * chunks are always bytes — or strings with `decodeStrings: false`, which are sent as text.
 */
export function createWebSocketStream(ws: WebSocket, options?: DuplexOptions): Duplex {
  // Cleared when the WebSocket reported an error: it is then closing by itself (a protocol
  // failure sends its Close frame), and terminate() could cut that frame off.
  let terminateOnDestroy = true;

  const duplex = new Duplex({
    ...options,
    autoDestroy: false,
    emitClose: false,
    objectMode: false,
    writableObjectMode: false,
  });

  // ── WebSocket → readable side ───────────────────────────────────────────────

  ws.on('message', (data: unknown, isBinary: boolean) => {
    // Data is pushed as the WebSocket delivered it (its binaryType decides binary messages;
    // text comes as UTF-8 bytes). Only a readable in object mode gets text messages as
    // strings, since there a chunk is never decoded by the stream.
    const chunk = !isBinary && duplex.readableObjectMode ? String(data) : data;
    // Past the readable's high-water mark, stop reading from the peer: TCP then pushes the
    // backpressure onto the sender. `_read` resumes once the consumer wants more.
    if (!duplex.push(chunk)) ws.pause();
  });

  // The WebSocket's first error fails the stream with that error (a stream already being
  // destroyed has its own way to its end).
  ws.once('error', (err: Error) => {
    if (duplex.destroyed) return;
    terminateOnDestroy = false;
    duplex.destroy(err);
  });

  // The connection is over: no more messages will come, so the readable side ends. An
  // already destroyed stream has nothing left to end.
  ws.once('close', () => {
    if (duplex.destroyed) return;
    duplex.push(null);
  });

  // Resume only a paused WebSocket, whoever paused it (as ws does).
  duplex._read = () => {
    if (ws.isPaused) ws.resume();
  };

  // ── Writable side → WebSocket ───────────────────────────────────────────────

  duplex._write = (chunk: unknown, encoding: BufferEncoding, callback: Callback) => {
    // Writes made before the handshake completed wait for it, in order: the stream calls
    // `_write` for the next chunk only after this one's callback.
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._write(chunk, encoding, callback));
      return;
    }
    // The write completes when the message reached the socket (or failed), so the
    // writable's buffer — and its high-water mark — covers what the peer has not taken yet.
    ws.send(chunk as Buffer | string, callback);
  };

  duplex._final = (callback: Callback) => {
    if (ws.readyState === ws.CONNECTING) {
      ws.once('open', () => duplex._final(callback));
      return;
    }
    const socket = ws._socket;
    // No socket attached after CONNECTING: a client whose handshake failed. Its 'error'
    // follows and destroys the stream; 'finish' never comes.
    if (socket === null) return;
    if (socket.writableFinished) {
      // The connection already ended its side: nothing to close. If the readable side has
      // ended too, nothing will end it later, so the stream is done now.
      callback();
      if (duplex.readableEnded) duplex.destroy();
      return;
    }
    // Finished once our side of the closing handshake is out and the socket's writing side
    // ended. The stream is not destroyed here: the readable's 'end' comes with the
    // WebSocket's 'close' (see onEnd).
    socket.once('finish', () => callback());
    ws.close();
  };

  duplex._destroy = (err: Error | null, callback: Callback) => {
    if (ws.readyState === ws.CLOSED) {
      callback(err);
      process.nextTick(emitClose, duplex);
      return;
    }
    // The stream reports its 'error' and 'close' only once the connection is really gone.
    // An error the WebSocket reports on the way (terminate() while CONNECTING fails the
    // handshake) is the one the stream reports.
    let called = false;
    ws.once('error', (wsErr: Error) => {
      called = true;
      callback(wsErr);
    });
    ws.once('close', () => {
      if (!called) callback(err);
      process.nextTick(emitClose, duplex);
    });
    if (terminateOnDestroy) ws.terminate();
  };

  duplex.on('end', onEnd);
  duplex.on('error', onError);
  return duplex;
}

/** `emitClose` is off (the connection decides when the stream is closed): emit it by hand. */
function emitClose(stream: Duplex): void {
  stream.emit('close');
}

/**
 * The readable side ended (the connection closed). Once the writable side has finished too,
 * the stream is over and is destroyed, which emits 'close'. While it has not, the stream
 * stays usable: ending it later still finishes (and closes) it, and writing fails.
 */
function onEnd(this: Duplex): void {
  if (!this.destroyed && this.writableFinished) this.destroy();
}

/**
 * With `autoDestroy` off, a stream error would leave the stream alive: destroy it. The
 * listener leaves after the first error, and re-emits the error when it was the only
 * listener, so an unhandled stream error still throws as it would without it.
 */
function onError(this: Duplex, err: Error): void {
  this.removeListener('error', onError);
  this.destroy();
  if (this.listenerCount('error') === 0) this.emit('error', err);
}
