// Frame helpers shared by the load generator, the raw-net server and the sink.
// Deliberately tiny: the load generator must never be the bottleneck, so frames
// are built once and replies are counted, never copied or decoded.
import { createHash } from 'node:crypto';
import { deflateRawSync, constants as zc } from 'node:zlib';

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// A fixed masking key. RFC 6455 §10.3 requires an unpredictable key so that a
// hostile script in a *browser* cannot make the wire bytes predictable to a
// proxy. The load generator is not a browser and talks to localhost, so a
// constant key is harmless here and lets every frame be built exactly once.
export const FIXED_MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

export function acceptKey(key) {
  return createHash('sha1').update(key + GUID).digest('base64');
}

function headerFor(opcode, length, { fin = true, rsv1 = false, mask = null } = {}) {
  const extra = length > 0xffff ? 8 : length > 125 ? 2 : 0;
  const header = Buffer.alloc(2 + extra + (mask ? 4 : 0));
  header[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  header[1] = (mask ? 0x80 : 0) | (extra === 8 ? 127 : extra === 2 ? 126 : length);
  if (extra === 2) header.writeUInt16BE(length, 2);
  else if (extra === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (mask) mask.copy(header, 2 + extra);
  return header;
}

export function maskInto(src, mask, dst, offset = 0) {
  for (let i = 0; i < src.length; i++) dst[offset + i] = src[i] ^ mask[i & 3];
  return dst;
}

/** One complete frame as a single Buffer; masked with FIXED_MASK when `masked`. */
export function buildFrame(opcode, payload, { masked = true, rsv1 = false, fin = true } = {}) {
  const mask = masked ? FIXED_MASK : null;
  const header = headerFor(opcode, payload.length, { fin, rsv1, mask });
  const out = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(out, 0);
  if (mask) maskInto(payload, mask, out, header.length);
  else payload.copy(out, header.length);
  return out;
}

/** Server-side (unmasked) header only, for writev-style header + payload writes. */
export function serverHeader(opcode, length, rsv1 = false) {
  return headerFor(opcode, length, { rsv1 });
}

/**
 * `count` copies of the same frame back to back, so refilling a pipelining
 * window of n messages is a single write of `subarray(0, n * frame.length)`.
 */
export function buildBatch(frame, count) {
  const out = Buffer.allocUnsafe(frame.length * count);
  for (let i = 0; i < count; i++) frame.copy(out, i * frame.length);
  return out;
}

/**
 * Compress a whole message the way permessage-deflate wants it (RFC 7692
 * §7.2.1): raw deflate, sync-flushed, with the trailing 00 00 ff ff removed.
 * Sending the same bytes repeatedly is only valid when the client negotiated
 * client_no_context_takeover, which the load generator always does.
 */
export function deflateMessage(payload) {
  const out = deflateRawSync(payload, { finishFlush: zc.Z_SYNC_FLUSH });
  const tail = out.length - 4;
  if (tail >= 0 && out[tail] === 0 && out[tail + 1] === 0 && out[tail + 2] === 0xff && out[tail + 3] === 0xff) {
    return out.subarray(0, tail);
  }
  return out;
}

/** Text payload that is valid UTF-8, mildly compressible and not trivially so. */
export function makePayload(size, text) {
  const out = Buffer.allocUnsafe(size);
  if (text) {
    const words = '{"user":"ada","op":"update","seq":12345,"tags":["x","yz"],"ok":true} lorem ipsum dolor ';
    for (let i = 0; i < size; i++) out[i] = words.charCodeAt((i * 7 + (i >> 5)) % words.length);
  } else {
    let x = 0x9e3779b9;
    for (let i = 0; i < size; i++) {
      x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
      out[i] = x & 0xff;
    }
  }
  return out;
}

/**
 * Exactly `size` bytes of valid JSON (ASCII, so valid UTF-8): an array of records such as an
 * API or a chat feed sends, with field values drawn from a fixed-seed generator, padded with
 * spaces before the closing bracket. Deterministic, so every process and every run compresses
 * the same bytes; redundant the way real JSON is (repeated keys, similar values), unlike
 * random bytes or one repeated string.
 */
export function makeJsonPayload(size) {
  if (size < 2) return Buffer.from('[]'.slice(0, size));
  let seed = 0x2545f491;
  const next = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const ops = ['create', 'update', 'delete', 'move', 'comment', 'react'];
  const names = ['ada', 'grace', 'linus', 'margaret', 'ken', 'barbara', 'dennis', 'frances', 'edsger', 'donald'];
  const words = ['alpha', 'beta', 'release', 'draft', 'review', 'merge', 'build', 'deploy', 'fix', 'docs', 'perf', 'test'];
  let text = '[';
  for (let id = 1; ; id++) {
    const tags = Array.from({ length: 1 + next(3) }, () => words[next(words.length)]);
    const record = JSON.stringify({
      id: 100000 + id * 7 + next(7),
      user: `${names[next(names.length)]}-${next(1000)}`,
      op: ops[next(ops.length)],
      ts: 1767225600000 + id * 1000 + next(1000),
      tags,
      score: next(100000) / 1000,
      ok: next(4) !== 0,
      text: Array.from({ length: 2 + next(6) }, () => words[next(words.length)]).join(' '),
    });
    const sep = id === 1 ? '' : ',';
    if (text.length + sep.length + record.length + 1 > size) break;
    text += sep + record;
  }
  return Buffer.from(text.padEnd(size - 1, ' ') + ']', 'latin1');
}

/** Header size implied by the second header byte (length code and mask bit). */
function headerLength(b1) {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}

/**
 * Counts complete messages in a byte stream of frames without copying
 * payloads. Only headers (≤ 14 bytes) are ever buffered, so memory per
 * connection is constant whatever the frame size. Control frames are counted
 * separately and a Close frame is remembered, nothing more.
 */
export class FrameCounter {
  constructor() {
    this.messages = 0;
    this.controls = 0;
    this.closed = false;
    this.payloadBytes = 0;
    this._header = Buffer.alloc(14);
    this._have = 0;
    this._skip = 0;
    this._endsMessage = false;
  }

  /** Returns the number of messages completed by this chunk. */
  push(chunk) {
    let done = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this._skip > 0) {
        const take = this._skip < n - i ? this._skip : n - i;
        this._skip -= take;
        this.payloadBytes += take;
        i += take;
        if (this._skip === 0 && this._endsMessage) done++;
        continue;
      }
      let src;
      let at;
      if (this._have === 0 && n - i >= 2 && n - i >= headerLength(chunk[i + 1])) {
        // Fast path: the whole header is in this chunk, read it in place.
        src = chunk;
        at = i;
        i += headerLength(chunk[i + 1]);
      } else {
        const h = this._header;
        h[this._have++] = chunk[i++];
        if (this._have < 2 || this._have < headerLength(h[1])) continue;
        src = h;
        at = 0;
        this._have = 0;
      }
      const len7 = src[at + 1] & 0x7f;
      const length = len7 === 126 ? src.readUInt16BE(at + 2) : len7 === 127 ? Number(src.readBigUInt64BE(at + 2)) : len7;
      const opcode = src[at] & 0x0f;
      if (opcode >= 8) {
        this.controls++;
        if (opcode === 8) this.closed = true;
        this._endsMessage = false;
      } else {
        this._endsMessage = (src[at] & 0x80) !== 0;
      }
      this._skip = length;
      if (length === 0 && this._endsMessage) done++;
    }
    this.messages += done;
    return done;
  }
}
