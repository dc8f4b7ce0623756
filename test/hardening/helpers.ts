import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { constants, createDeflateRaw } from 'node:zlib';
import { afterEach, beforeEach, expect } from 'vitest';
import type { ServerOptions, WebSocket, WebSocketServer } from '../../src/index.js';
import { KEY, readHead, startServer as startTestServer, upgradeRequest as baseUpgradeRequest } from '../server/helpers.js';
import { acceptFor } from '../websocket/raw-server.js';

/*
 * Raw-socket tools for the fault and attack tests: they speak just enough HTTP and framing by
 * hand to misbehave in ways a well-behaved client library never would.
 */

export interface Started {
  wss: WebSocketServer;
  port: number;
  close(): Promise<void>;
}

/** The shared test server with heartbeats off unless a test asks: no ping it did not plan reaches its raw sockets. */
export function startServer(options: Omit<ServerOptions, 'port'> = {}): Promise<Started> {
  return startTestServer({ heartbeat: 0, ...options });
}

export { KEY };

/** A valid upgrade request head with `extra` header lines appended. */
export function upgradeRequest(extra: string[] = []): string {
  return baseUpgradeRequest({ headers: { Host: '127.0.0.1' }, extra });
}

export async function rawConnect(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return socket;
}

/** A correct 101 answer to a request carrying `key`; `extra` is raw header lines, each ending in CRLF. */
export function switching101(key: string, extra = ''): string {
  return `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n${extra}\r\n`;
}

/** Everything the server sends until it closes the connection (or `ms` pass), and whether it closed. */
export function collect(socket: Socket, ms = 3000): Promise<{ data: Buffer; closed: boolean }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(parts), closed });
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('data', (c: Buffer) => parts.push(c));
    socket.on('error', () => {});
    socket.once('close', () => done(true));
  });
}

/** Completes the opening handshake by hand; resolves once the 101 head has arrived. */
export async function rawUpgrade(port: number, extra: string[] = []): Promise<{ socket: Socket; head: string; rest: Buffer }> {
  const socket = await rawConnect(port);
  socket.on('error', () => {});
  socket.write(upgradeRequest(extra));
  const { head, rest } = await readHead(socket, 10_000);
  return { socket, head, rest };
}

/** A masked client frame. `length` overrides the announced length (to lie about it). */
export function clientFrame(opcode: number, payload: Buffer = Buffer.alloc(0), o: { fin?: boolean; rsv1?: boolean; length?: number | bigint } = {}): Buffer {
  const len = o.length ?? payload.length;
  const n = typeof len === 'bigint' ? len : BigInt(len);
  const b0 = ((o.fin ?? true) ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | opcode;
  let header: Buffer;
  if (n < 126n) header = Buffer.from([b0, 0x80 | Number(n)]);
  else if (n < 65536n) {
    header = Buffer.alloc(4);
    header[0] = b0;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(Number(n), 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = b0;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(n, 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}

export interface ServerFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** Parses unmasked server frames out of `data` (trailing partial frames are ignored). */
export function parseServerFrames(data: Buffer): ServerFrame[] {
  const out: ServerFrame[] = [];
  let i = 0;
  while (i + 2 <= data.length) {
    const b0 = data[i]!;
    let len = data[i + 1]! & 0x7f;
    let at = i + 2;
    if (len === 126) {
      if (at + 2 > data.length) break;
      len = data.readUInt16BE(at);
      at += 2;
    } else if (len === 127) {
      if (at + 8 > data.length) break;
      len = Number(data.readBigUInt64BE(at));
      at += 8;
    }
    if (at + len > data.length) break;
    out.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: data.subarray(at, at + len) });
    i = at + len;
  }
  return out;
}

/** The close code of the first Close frame in `data`, or null when there is none. */
export function closeCodeIn(data: Buffer): number | null {
  const close = parseServerFrames(data).find((f) => f.opcode === 8);
  if (!close) return null;
  return close.payload.length >= 2 ? close.payload.readUInt16BE(0) : 1005;
}

/** Records a server-side connection's 'close' and 'error' events, to count them. */
export function track(ws: WebSocket): { closes: number[]; errors: Error[]; closed: Promise<number> } {
  const closes: number[] = [];
  const errors: Error[] = [];
  const closed = new Promise<number>((resolve) => {
    ws.on('close', (code: number) => {
      closes.push(code);
      resolve(code);
    });
  });
  ws.on('error', (err: Error) => errors.push(err));
  return { closes, errors, closed };
}

/**
 * Collects uncaught exceptions and unhandled rejections while a test runs (vitest would fail
 * the run on them too, but only after the fact and without saying which test caused them).
 */
export function watchUncaught(): { errors: unknown[]; stop(): void } {
  const errors: unknown[] = [];
  const onError = (err: unknown): void => {
    errors.push(err);
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}

/** Makes every test in the calling file fail if it caused an uncaught exception or rejection. */
export function failOnUncaught(): void {
  let uncaught: ReturnType<typeof watchUncaught>;
  beforeEach(() => {
    uncaught = watchUncaught();
  });
  afterEach(() => {
    uncaught.stop();
    expect(uncaught.errors).toEqual([]);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Proves the server still works: a fresh raw client upgrades and gets its message echoed. */
export async function assertServes(s: Started): Promise<void> {
  const echo = (ws: WebSocket): void => {
    ws.once('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
  };
  s.wss.once('connection', echo);
  const { socket, head, rest } = await rawUpgrade(s.port);
  if (!head.startsWith('HTTP/1.1 101')) throw new Error(`server no longer serves: ${head}`);
  const got = new Promise<Buffer>((resolve) => {
    let buf = rest;
    const check = (): void => {
      const frame = parseServerFrames(buf)[0];
      if (frame) resolve(frame.payload);
    };
    socket.on('data', (c: Buffer) => ((buf = Buffer.concat([buf, c])), check()));
    check();
  });
  socket.write(clientFrame(1, Buffer.from('still here')));
  const payload = await got;
  socket.destroy();
  if (payload.toString() !== 'still here') throw new Error(`unexpected echo ${payload.toString()}`);
}

/** Heap plus Buffer memory of this process: what a message inflated in full would grow. */
export function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** `size` zero bytes deflated as one permessage-deflate message (sync flush, tail removed), without holding them. */
export async function deflatedZeros(size: number): Promise<Buffer> {
  const deflate = createDeflateRaw();
  const parts: Buffer[] = [];
  deflate.on('data', (c: Buffer) => parts.push(c));
  const zeros = Buffer.alloc(1 << 20);
  for (let i = 0; i < size; i += zeros.length) {
    if (!deflate.write(zeros)) await new Promise((r) => deflate.once('drain', r));
  }
  await new Promise<void>((r) => deflate.flush(constants.Z_SYNC_FLUSH, () => r()));
  const out = Buffer.concat(parts);
  deflate.close();
  return out.subarray(0, out.length - 4);
}
