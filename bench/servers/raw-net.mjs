// The ceiling: the least work a conforming-ish echo server can do on Node's
// `net` — parse the upgrade, parse frame headers, unmask, validate text,
// write header + payload back. No fragmentation reassembly, no extensions
// (so compressed scenarios skip), no limits beyond a hard maxPayload.
import net from 'node:net';
import { createRequire } from 'node:module';
import { isUtf8 } from 'node:buffer';
import { acceptKey, serverHeader, maskInto, buildFrame } from '../lib/frames.mjs';
import { openRaw, upgradeRequest } from '../lib/handshake.mjs';

const require = createRequire(import.meta.url);

export const description = 'raw node:net echo, minimal framing (the practical ceiling)';
export const env = {};

// The ceiling should be as high as Node allows, so use the native unmask when
// it is installed; raw-net is a yardstick, not a product.
let unmask = (buf, mask) => maskInto(buf, mask, buf, 0);
let unmaskKind = 'JS';
try {
  const bu = require('bufferutil');
  unmask = (buf, mask) => (buf.length < 32 ? maskInto(buf, mask, buf, 0) : bu.unmask(buf, mask));
  unmaskKind = 'bufferutil';
} catch {}

export async function probe() {
  return { ok: true, info: [`unmask: ${unmaskKind}`, 'UTF-8 validation: node:buffer isUtf8'] };
}

const MAX_PAYLOAD = 64 * 1024 * 1024;
const MAX_HEAD = 16 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

// Every socket written while one read is processed stays corked until the
// read is done, so N messages to one peer leave as one writev, not N writes.
const corked = new Set();
function corkOnce(socket) {
  if (corked.has(socket)) return;
  socket.cork();
  corked.add(socket);
}
function flush() {
  for (const socket of corked) socket.uncork();
  corked.clear();
}

class Connection {
  constructor(socket, onMessage) {
    this.socket = socket;
    this.onMessage = onMessage;
    this.upgraded = false;
    this.head = null;
    this.pending = null; // unconsumed bytes of an incomplete header
    this.payload = null; // payload being filled across reads
    this.filled = 0;
    this.frame = null;
  }

  data(chunk) {
    if (!this.upgraded) return this.handshake(chunk);
    try {
      this.frames(chunk);
    } finally {
      flush();
    }
  }

  handshake(chunk) {
    this.head = this.head ? Buffer.concat([this.head, chunk]) : chunk;
    const end = this.head.indexOf(HEADER_END);
    if (end < 0) {
      if (this.head.length > MAX_HEAD) this.socket.destroy();
      return;
    }
    const text = this.head.subarray(0, end).toString('latin1');
    const key = /\r\nsec-websocket-key:\s*([^\r\n]+)/i.exec(text)?.[1]?.trim();
    if (!key || !/^GET /.test(text)) {
      this.socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        `Sec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`,
    );
    this.upgraded = true;
    const rest = this.head.subarray(end + 4);
    this.head = null;
    if (rest.length) this.data(rest);
  }

  frames(chunk) {
    let buf = chunk;
    let i = 0;
    if (this.payload) {
      const take = Math.min(buf.length, this.payload.length - this.filled);
      buf.copy(this.payload, this.filled, 0, take);
      this.filled += take;
      i = take;
      if (this.filled < this.payload.length) return;
      const { opcode, fin, mask } = this.frame;
      const payload = this.payload;
      this.payload = null;
      unmask(payload, mask);
      if (!this.deliver(opcode, fin, payload)) return;
    }
    if (this.pending) {
      buf = Buffer.concat([this.pending, buf.subarray(i)]);
      this.pending = null;
      i = 0;
    }
    while (i < buf.length) {
      if (buf.length - i < 2) break;
      const b0 = buf[i];
      const b1 = buf[i + 1];
      if ((b1 & 0x80) === 0 || (b0 & 0x70) !== 0) return this.fail(1002);
      let len = b1 & 0x7f;
      let off = i + 2;
      if (len === 126) {
        if (buf.length - off < 2) break;
        len = buf.readUInt16BE(off);
        off += 2;
      } else if (len === 127) {
        if (buf.length - off < 8) break;
        len = buf.readUInt32BE(off) * 2 ** 32 + buf.readUInt32BE(off + 4);
        off += 8;
      }
      if (buf.length - off < 4) break;
      if (len > MAX_PAYLOAD) return this.fail(1009);
      const mask = buf.subarray(off, off + 4);
      off += 4;
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (buf.length - off < len) {
        // Spans reads: copy into a buffer of exactly the frame's size.
        this.payload = Buffer.allocUnsafe(len);
        buf.copy(this.payload, 0, off);
        this.filled = buf.length - off;
        this.frame = { opcode, fin, mask: Buffer.from(mask) };
        return;
      }
      const payload = buf.subarray(off, off + len);
      unmask(payload, mask);
      i = off + len;
      if (!this.deliver(opcode, fin, payload)) return;
    }
    if (i < buf.length) this.pending = Buffer.from(buf.subarray(i));
  }

  deliver(opcode, fin, payload) {
    if (opcode === 8) {
      this.socket.end(buildFrame(8, payload.subarray(0, 2), { masked: false }));
      return false;
    }
    if (opcode === 9) {
      this.socket.write(buildFrame(10, payload, { masked: false }));
      return true;
    }
    if (opcode === 10) return true;
    if (opcode === 1 && fin && !isUtf8(payload)) return this.fail(1007);
    this.onMessage(this, opcode, fin, payload);
    return true;
  }

  send(opcode, fin, payload) {
    const header = serverHeader(opcode, payload.length);
    if (!fin) header[0] &= 0x7f;
    corkOnce(this.socket);
    this.socket.write(header);
    if (payload.length) this.socket.write(payload);
  }

  fail(code) {
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code);
    this.socket.end(buildFrame(8, body, { masked: false }));
    return false;
  }
}

export function createServer({ port, mode, compress }) {
  void compress; // no extensions: compressed scenarios detect this and skip
  const conns = new Set();
  const onMessage =
    mode === 'broadcast'
      ? (_from, opcode, fin, payload) => {
          // Frame once, then hand every socket the same bytes: one write each.
          const header = serverHeader(opcode, payload.length);
          if (!fin) header[0] &= 0x7f;
          const frame = Buffer.concat([header, payload]);
          for (const c of conns) {
            corkOnce(c.socket);
            c.socket.write(frame);
          }
        }
      : (from, opcode, fin, payload) => from.send(opcode, fin, payload);
  const server = net.createServer({ noDelay: true }, (socket) => {
    const conn = new Connection(socket, onMessage);
    socket.on('data', (chunk) => conn.data(chunk));
    socket.on('error', () => {});
    socket.on('close', () => conns.delete(conn));
    conns.add(conn);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () =>
      resolve({
        close: () => new Promise((done) => {
          for (const c of conns) c.socket.destroy();
          server.close(() => done());
        }),
      }),
    );
  });
}

/** The client-side ceiling: prebuilt masked frames written with net backpressure. */
export async function createClient({ url, payload, binary }) {
  const { port } = new URL(url);
  const { socket } = await openRaw({ port: Number(port), request: upgradeRequest({ port: Number(port) }) });
  const frame = buildFrame(binary ? 2 : 1, payload, { masked: true });
  const perWrite = Math.max(1, Math.floor((64 * 1024) / frame.length));
  const batch = Buffer.allocUnsafe(frame.length * perWrite);
  for (let k = 0; k < perWrite; k++) frame.copy(batch, k * frame.length);
  let sent = 0;
  let stopped = false;
  const pump = () => {
    while (!stopped) {
      sent += perWrite;
      if (!socket.write(batch)) return socket.once('drain', pump);
    }
  };
  socket.on('error', () => {});
  pump();
  return { sent: () => sent, stop: () => { stopped = true; socket.destroy(); } };
}
