// The load generator's side of bench:pubsub: raw client connections whose frames are scanned
// header-only (plus the first bytes of each payload: marker, publisher id, sequence number,
// timestamp), checked per publisher for gaps, duplicates and reordering, and timed into one
// shared latency histogram. Kept cheap on purpose: on 2 cores the generator shares the CPU
// with the servers, so every microsecond here is one the servers don't get.
import { performance } from 'node:perf_hooks';
import { buildFrame } from '../lib/frames.mjs';
import { upgradeRequest, openRaw } from '../lib/handshake.mjs';

// Socket.IO envelope (8) + '#' + 3-digit publisher + 10-digit sequence + 15-digit µs timestamp.
const PREFIX = 40;
// PUBSUB_TAIL=FILE (probe): deliveries slower than PUBSUB_TAIL_US (default 12,000) are dumped there.
const TAIL = process.env.PUBSUB_TAIL;
const TAIL_US = Number(process.env.PUBSUB_TAIL_US ?? 12_000);
export const MAX_PUBLISHERS = 1000;

const pad = (n, w) => String(n).padStart(w, '0');
export const nowUs = () => Math.round(performance.now() * 1000);

/**
 * One masked text frame. `marker` '#' carries (publisher, seq, ts); '!' is a primer that only
 * says "the subscription is in force". Socket.IO clients wrap the text in a `42["m",…]` event.
 */
export function message(impl, marker, publisher, seq, ts, size) {
  const body = (marker + pad(publisher, 3) + pad(seq, 10) + pad(ts, 15)).padEnd(size, 'x');
  const text = impl === 'socket.io' ? `42["m","${body}"]` : body;
  return buildFrame(0x1, Buffer.from(text, 'latin1'));
}
const PONG = buildFrame(0x1, Buffer.from('3'));
const SIO_CONNECT = buildFrame(0x1, Buffer.from('40'));

/** What every connection of one measurement adds to. `delivered` counts '#' messages only. */
export const tally = {
  delivered: 0,
  hist: new Uint32Array(500_000), // 10 µs buckets up to 5 s (slower lands in the last one)
  histOn: false,
  tail: [],
  onData: () => {},
  reset() { this.delivered = 0; this.hist.fill(0); this.histOn = false; this.tail = []; this.onData = () => {}; },
  /** Latency quantile in ms from the histogram (bucket middle); NaN when empty. */
  pct(q) {
    let n = 0; for (const v of this.hist) n += v;
    let acc = 0; const want = q * n;
    for (let i = 0; i < this.hist.length; i++) { acc += this.hist[i]; if (acc >= want && n) return (i * 10 + 5) / 1000; }
    return NaN;
  },
};

export class Conn {
  /** `id` is this connection's publisher id (chat); `publishers` how many ids it may hear from. */
  constructor(socket, impl, id, publishers) {
    this.socket = socket; this.impl = impl; this.id = id;
    this.pending = null; this.skip = 0;
    this.expected = new Int32Array(publishers); // next sequence number due from each publisher
    this.received = 0; this.gaps = 0; this.dups = 0; this.self = 0;
    this.primed = false; this.connected = impl !== 'socket.io'; this.closed = false;
    socket.on('data', (c) => this.onData(c));
    socket.on('close', () => { this.closed = true; });
    socket.on('error', () => {});
  }

  onData(chunk) {
    const now = nowUs();
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let i = 0;
    if (this.skip) { const n = Math.min(this.skip, buf.length); this.skip -= n; i = n; }
    while (i < buf.length) {
      const avail = buf.length - i;
      if (avail < 2) { this.pending = buf.subarray(i); break; }
      let len = buf[i + 1] & 127, hdr = 2;
      if (len === 126) { if (avail < 4) { this.pending = buf.subarray(i); break; } len = buf.readUInt16BE(i + 2); hdr = 4; }
      else if (len === 127) { if (avail < 10) { this.pending = buf.subarray(i); break; } len = Number(buf.readBigUInt64BE(i + 2)); hdr = 10; }
      const look = Math.min(len, PREFIX);
      if (avail < hdr + look) { this.pending = buf.subarray(i); break; }
      this.frame(buf[i] & 15, buf, i + hdr, look, len, now);
      const end = i + hdr + len;
      if (end > buf.length) { this.skip = end - buf.length; break; }
      i = end;
    }
    tally.onData();
  }

  frame(opcode, b, at, look, len, now) {
    if (opcode === 8) { this.closed = true; return; }
    if (opcode !== 1 && opcode !== 2) return;
    for (let k = at, stop = at + Math.min(look, 12); k < stop; k++) {
      const m = b[k];
      if (m === 0x23 /* # */) {
        if (look < k - at + 29) return;
        let pub = 0; for (let j = k + 1; j < k + 4; j++) pub = pub * 10 + b[j] - 48;
        let seq = 0; for (let j = k + 4; j < k + 14; j++) seq = seq * 10 + b[j] - 48;
        let ts = 0; for (let j = k + 14; j < k + 29; j++) ts = ts * 10 + b[j] - 48;
        if (pub === this.id) { this.self++; return; } // every implementation here excludes the sender
        const want = this.expected[pub];
        if (seq === want) this.expected[pub] = want + 1;
        else if (seq > want) { this.gaps += seq - want; this.expected[pub] = seq + 1; }
        else { this.dups++; return; }
        this.received++; tally.delivered++;
        if (tally.histOn) {
          tally.hist[Math.min(((now - ts) / 10) | 0, tally.hist.length - 1)]++;
          if (TAIL && now - ts > TAIL_US) tally.tail.push([ts, now - ts, pub, this.id]);
        }
        return;
      }
      if (m === 0x21 /* ! */) { this.primed = true; return; }
    }
    // Engine.IO: "2" ping → "3" pong; "40…" namespace connect acknowledged.
    if (this.impl === 'socket.io') {
      if (len === 1 && b[at] === 0x32) this.socket.write(PONG);
      else if (len >= 2 && b[at] === 0x34 && b[at + 1] === 0x30) this.connected = true;
    }
  }

  /** Messages from each publisher (`published[p]` sent) that had not arrived at the end. */
  tail(published) {
    let n = 0;
    for (let p = 0; p < published.length; p++) if (p !== this.id) n += Math.max(0, published[p] - this.expected[p]);
    return n;
  }
  /** Has everything `published` says was sent to it arrived (or is it gone)? */
  drained(published) {
    if (this.closed) return true;
    for (let p = 0; p < published.length; p++) if (p !== this.id && this.expected[p] < published[p]) return false;
    return true;
  }
}

/**
 * Loss and order, over every subscriber: `lost` sequence numbers skipped (FIFO per publisher makes
 * a skip final), `dups` repeated, reordered or echoed to their sender, `undelivered` not arrived
 * when the drain after the last publish ended (`drained` false: the drain timed out).
 */
export const checks = (conns, published, drained) => ({
  lost: conns.reduce((a, c) => a + c.gaps, 0),
  dups: conns.reduce((a, c) => a + c.dups + c.self, 0),
  undelivered: conns.reduce((a, c) => a + c.tail(published), 0),
  drained,
});

/** role: 'sub' | 'pub' | 'chat' — the server's path (or Socket.IO query) decides what it does. */
export async function connect(impl, port, role, id, publishers) {
  const p = impl === 'socket.io' ? `/socket.io/?EIO=4&transport=websocket&role=${role}` : `/${role}`;
  const { socket, leftover } = await openRaw({ port, request: upgradeRequest({ port, path: p }) });
  const conn = new Conn(socket, impl, id, publishers);
  if (impl === 'socket.io') socket.write(SIO_CONNECT);
  if (leftover.length) conn.onData(leftover);
  return conn;
}

export const until = (cond, ms, what) => new Promise((resolve, reject) => {
  const t0 = Date.now();
  const tick = () => { if (cond()) resolve(); else if (Date.now() - t0 > ms) reject(new Error(`timed out waiting for ${what}`)); else setTimeout(tick, 5); };
  tick();
});
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
