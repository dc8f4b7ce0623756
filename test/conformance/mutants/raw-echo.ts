import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { constants, inflateRawSync } from 'node:zlib';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { buildFrame, closePayload, FrameReader, type ParsedFrame } from '../../../src/conformance/frames.js';

/**
 * A small echo server on raw node:net, correct by default, with switches that each break one
 * rule. The conformance suite must catch every switch; that is how we know the judge judges.
 */
export interface Flaws {
  skipUtf8?: boolean;
  acceptReservedOpcodes?: boolean;
  wrongCloseCode?: boolean;
  neverCloseTcp?: boolean;
  acceptRsv?: boolean;
  acceptFragmentedControl?: boolean;
  truncateLarge?: boolean;
  ignorePings?: boolean;
  acceptUnmasked?: boolean;
  acceptBadCloseCodes?: boolean;
  badAccept?: boolean;
  acceptAnyVersion?: boolean;
  /** Not a flaw: negotiate permessage-deflate for plain offers (decline anything with parameters). */
  deflate?: boolean;
  /** Answer any permessage-deflate offer by repeating it verbatim, even ones that must be declined. */
  deflateEchoOffer?: boolean;
  /** Accept RSV1 on continuation and control frames once deflate is on. */
  deflateRsvAnywhere?: boolean;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function validWireCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);
}

/** Picks the permessage-deflate answer, or null to decline. */
function deflateAnswer(offer: string | undefined, flaws: Flaws): string | null {
  if (!flaws.deflate || !offer) return null;
  const first = offer.split(',').map((s) => s.trim()).find((o) => o.startsWith('permessage-deflate'));
  if (!first) return null;
  if (flaws.deflateEchoOffer) return first;
  const params = first.split(';').slice(1).map((p) => p.trim());
  return params.every((p) => p === 'client_max_window_bits') ? 'permessage-deflate' : null;
}

function handleUpgrade(sock: Socket, head: string, flaws: Flaws): string | false {
  const lines = head.split('\r\n');
  const headers = new Map<string, string>();
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers.set(l.slice(0, i).trim().toLowerCase(), l.slice(i + 1).trim());
  }
  const key = headers.get('sec-websocket-key') ?? '';
  const version = headers.get('sec-websocket-version');
  const ok =
    /^GET \S+ HTTP\/1\.1$/.test(lines[0] ?? '') &&
    headers.get('upgrade')?.toLowerCase() === 'websocket' &&
    /\bupgrade\b/i.test(headers.get('connection') ?? '') &&
    headers.has('host') &&
    Buffer.from(key, 'base64').length === 16 &&
    /^[A-Za-z0-9+/]{22}==$/.test(key);
  if (!ok) {
    sock.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return false;
  }
  if (version !== '13' && !flaws.acceptAnyVersion) {
    sock.end('HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n');
    return false;
  }
  const accept = createHash('sha1').update(key + GUID).digest('base64');
  const ext = deflateAnswer(headers.get('sec-websocket-extensions'), flaws);
  sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${flaws.badAccept ? accept.slice(1) + 'A' : accept}\r\n${ext ? `Sec-WebSocket-Extensions: ${ext}\r\n` : ''}\r\n`);
  return ext ?? '';
}

function serve(sock: Socket, flaws: Flaws): void {
  let head = Buffer.alloc(0);
  let upgraded = false;
  const reader = new FrameReader(64 * 1024 * 1024);
  let frag: Buffer[] = [];
  let fragOp = 0;
  let closed = false;
  let deflate = false;
  let compressed = false;
  const send = (opcode: number, payload: Buffer): void => {
    if (!sock.destroyed) sock.write(buildFrame({ opcode, payload, mask: false }));
  };
  const fail = (code: number): void => {
    send(8, closePayload(code));
    closed = true;
    sock.end();
  };
  const onFrame = (f: ParsedFrame): void => {
    if (closed) return;
    if (!f.masked && !flaws.acceptUnmasked) return fail(1002);
    const rsv1Ok = deflate && f.rsv === 4 && (flaws.deflateRsvAnywhere || f.opcode === 1 || f.opcode === 2);
    if (f.rsv !== 0 && !flaws.acceptRsv && !rsv1Ok) return fail(1002);
    const reserved = (f.opcode > 2 && f.opcode < 8) || f.opcode > 10;
    if (reserved) return flaws.acceptReservedOpcodes ? undefined : fail(1002);
    if (f.opcode >= 8) {
      if (!f.fin && !flaws.acceptFragmentedControl) return fail(1002);
      if (f.payload.length > 125) return fail(1002);
      if (f.opcode === 9) return flaws.ignorePings ? undefined : send(10, f.payload);
      if (f.opcode === 10) return;
      const p = f.payload;
      if (p.length === 1) return fail(1002);
      if (p.length >= 2 && !validWireCode(p.readUInt16BE(0)) && !flaws.acceptBadCloseCodes) return fail(1002);
      if (p.length > 2 && !flaws.skipUtf8 && !isUtf8(p.subarray(2))) return fail(1007);
      send(8, flaws.wrongCloseCode ? closePayload(1001) : p.subarray(0, 2));
      closed = true;
      if (!flaws.neverCloseTcp) sock.end();
      return;
    }
    if (f.opcode === 0 && frag.length === 0 && fragOp === 0) return fail(1002);
    if (f.opcode !== 0 && fragOp !== 0) return fail(1002);
    if (f.opcode !== 0) {
      fragOp = f.opcode;
      compressed = f.rsv === 4 && deflate;
    }
    frag.push(f.payload);
    if (!f.fin) return;
    let msg = Buffer.concat(frag);
    const op = fragOp;
    frag = [];
    fragOp = 0;
    if (compressed) {
      try {
        msg = inflateRawSync(Buffer.concat([msg, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH });
      } catch {
        return fail(1007);
      }
    }
    if (op === 1 && !flaws.skipUtf8 && !isUtf8(msg)) return fail(1007);
    if (flaws.truncateLarge && msg.length > 65536) msg = msg.subarray(0, 65536);
    send(op, msg);
  };
  sock.on('error', () => undefined);
  sock.on('data', (d: Buffer) => {
    if (!upgraded) {
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > 16 * 1024) sock.end('HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
        return;
      }
      const ext = handleUpgrade(sock, head.subarray(0, end).toString('latin1'), flaws);
      if (ext === false) return;
      deflate = ext !== '';
      upgraded = true;
      d = head.subarray(end + 4);
    }
    try {
      for (const f of reader.push(d)) onFrame(f);
    } catch {
      fail(1009);
    }
  });
  // A stalled handshake is dropped, as a careful server would.
  sock.setTimeout(2000, () => {
    if (!upgraded) sock.destroy();
  });
}

export async function startRawEcho(flaws: Flaws = {}): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    serve(s, flaws);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `ws://127.0.0.1:${port}/`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
