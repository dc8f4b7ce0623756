import { constants, createDeflateRaw, createInflateRaw, deflateRawSync, type DeflateRaw, type InflateRaw } from 'node:zlib';

/** RFC 7692 7.2.1: senders strip this tail from each compressed message, receivers add it back. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const MAX_INFLATED = 64 * 1024 * 1024;

export interface DeflateOffer {
  /** Send this header text verbatim instead of building it (for malformed offers). */
  header?: string;
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  /** Offered server_max_window_bits value. */
  serverMaxWindowBits?: number;
  /** `true` offers client_max_window_bits without a value. */
  clientMaxWindowBits?: number | true;
}

export interface DeflateAgreement {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

export function offerHeader(o: DeflateOffer): string {
  if (o.header !== undefined) return o.header;
  const p = ['permessage-deflate'];
  if (o.serverNoContextTakeover) p.push('server_no_context_takeover');
  if (o.clientNoContextTakeover) p.push('client_no_context_takeover');
  if (o.serverMaxWindowBits !== undefined) p.push(`server_max_window_bits=${o.serverMaxWindowBits}`);
  if (o.clientMaxWindowBits === true) p.push('client_max_window_bits');
  else if (o.clientMaxWindowBits !== undefined) p.push(`client_max_window_bits=${o.clientMaxWindowBits}`);
  return p.join('; ');
}

/**
 * Checks a server's Sec-WebSocket-Extensions answer against what we offered (RFC 7692 section 7).
 * Returns the agreement, or a description of what is wrong with the answer.
 */
export function checkDeflateAnswer(header: string, offer: DeflateOffer): DeflateAgreement | string {
  const exts = header.split(',').map((s) => s.trim()).filter(Boolean);
  if (exts.length !== 1) return `expected exactly one extension in the answer, got ${JSON.stringify(header)}`;
  const [name, ...params] = exts[0]!.split(';').map((s) => s.trim());
  if (name !== 'permessage-deflate') return `answered with extension ${JSON.stringify(name)}, which was not offered`;
  const a: DeflateAgreement = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const seen = new Set<string>();
  for (const p of params) {
    const [k = '', raw] = p.split('=').map((s) => s.trim());
    const v = raw?.replace(/^"(.*)"$/, '$1');
    if (seen.has(k)) return `parameter ${k} appears twice`;
    seen.add(k);
    const bits = (): number | string => (v !== undefined && /^\d+$/.test(v) && Number(v) >= 8 && Number(v) <= 15 ? Number(v) : `${k} has invalid value ${JSON.stringify(v ?? null)}`);
    switch (k) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (v !== undefined) return `${k} must not have a value`;
        if (k === 'server_no_context_takeover') a.serverNoContextTakeover = true;
        else a.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits': {
        const b = bits();
        if (typeof b === 'string') return b;
        if (offer.serverMaxWindowBits !== undefined && b > offer.serverMaxWindowBits) return `server_max_window_bits=${b} exceeds the offered ${offer.serverMaxWindowBits}`;
        a.serverMaxWindowBits = b;
        break;
      }
      case 'client_max_window_bits': {
        if (offer.clientMaxWindowBits === undefined) return 'client_max_window_bits in the answer although the offer did not include it';
        const b = bits();
        if (typeof b === 'string') return b;
        if (offer.clientMaxWindowBits !== true && b > offer.clientMaxWindowBits) return `client_max_window_bits=${b} exceeds the offered ${offer.clientMaxWindowBits}`;
        a.clientMaxWindowBits = b;
        break;
      }
      default:
        return `unknown parameter ${JSON.stringify(k)} in the answer`;
    }
  }
  if (offer.serverNoContextTakeover && !a.serverNoContextTakeover) return 'accepted an offer with server_no_context_takeover but left it out of the answer';
  if (offer.serverMaxWindowBits !== undefined && !seen.has('server_max_window_bits')) return 'accepted an offer with server_max_window_bits but left it out of the answer';
  return a;
}

/**
 * Reads the permessage-deflate offers in a client's Sec-WebSocket-Extensions (RFC 7692 section 5),
 * in the client's order of preference. Offers of other extensions are ignored; malformed
 * permessage-deflate offers are listed separately, since a server must decline them.
 */
export function parseDeflateOffers(header: string | undefined): { offers: DeflateOffer[]; malformed: string[] } {
  const offers: DeflateOffer[] = [];
  const malformed: string[] = [];
  for (const ext of (header ?? '').split(',').map((e) => e.trim()).filter(Boolean)) {
    const [name = '', ...params] = ext.split(';').map((p) => p.trim());
    if (name.toLowerCase() !== 'permessage-deflate') continue;
    const o: DeflateOffer = {};
    const seen = new Set<string>();
    let bad: string | null = null;
    for (const p of params) {
      const [k = '', raw] = p.split('=').map((x) => x.trim());
      const key = k.toLowerCase();
      const v = raw?.replace(/^"(.*)"$/, '$1');
      const bits = v !== undefined && /^\d+$/.test(v) && Number(v) >= 8 && Number(v) <= 15 ? Number(v) : null;
      if (seen.has(key)) bad = `${key} appears twice`;
      seen.add(key);
      if (key === 'server_no_context_takeover' && v === undefined) o.serverNoContextTakeover = true;
      else if (key === 'client_no_context_takeover' && v === undefined) o.clientNoContextTakeover = true;
      else if (key === 'server_max_window_bits' && bits !== null) o.serverMaxWindowBits = bits;
      else if (key === 'client_max_window_bits' && (v === undefined || bits !== null)) o.clientMaxWindowBits = bits ?? true;
      else bad ??= `bad parameter ${JSON.stringify(p)}`;
    }
    if (bad) malformed.push(`${JSON.stringify(ext)}: ${bad}`);
    else offers.push(o);
  }
  return { offers, malformed };
}

/** One message, compressed without context takeover (always allowed for the sender). */
export function compressMessage(data: Buffer, windowBits = 15): Buffer {
  const out = deflateRawSync(data, { windowBits: Math.max(9, windowBits), finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(out.length - 4).equals(TAIL) ? out.subarray(0, out.length - 4) : out;
}

export interface CodecOptions {
  /** LZ77 window as negotiated (8–15); default 15. */
  windowBits?: number;
  /** Start every message from an empty context (`*_no_context_takeover`). */
  noContextTakeover?: boolean;
}

/**
 * Inflates the peer's messages. By default one persistent context, since the peer may use
 * context takeover. With `noContextTakeover` every message gets a fresh context, so a peer that
 * was told not to take over context and does anyway refers back into a window we do not have and
 * fails to inflate. The window is the negotiated one for the same reason: a peer that uses a
 * larger window than agreed produces distances that do not decode.
 */
export class Inflater {
  private z: InflateRaw | null = null;
  private out: Buffer[] = [];
  private size = 0;
  private error: Error | null = null;
  /** Messages inflated so far (the peer's compressed messages). */
  count = 0;

  constructor(private readonly opts: CodecOptions = {}) {}

  private stream(): InflateRaw {
    if (this.z) return this.z;
    // zlib checks a match's distance only against its window plus what the current inflate()
    // call has written, so large output chunks would let a too-distant match through. With 64-byte
    // chunks (zlib's minimum) a peer using a larger window than agreed is caught within 64 bytes.
    // zlib accepts 8 for inflate, so this holds down to the smallest window.
    const bits = this.opts.windowBits ?? 15;
    const z = createInflateRaw({ windowBits: bits, ...(bits < 15 ? { chunkSize: 64 } : {}) });
    z.on('data', (d: Buffer) => {
      this.size += d.length;
      if (this.size <= MAX_INFLATED) this.out.push(d);
    });
    z.on('error', (e) => (this.error = e));
    this.z = z;
    return z;
  }

  inflate(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.error) return reject(this.error);
      const z = this.stream();
      // A zlib error destroys the stream and the flush callback never runs: reject from the error instead.
      const onError = (e: Error): void => reject(e);
      z.once('error', onError);
      z.write(Buffer.concat([data, TAIL]));
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('error', onError);
        if (this.error) return reject(this.error);
        if (this.size > MAX_INFLATED) return reject(new Error(`inflates to more than ${MAX_INFLATED} bytes`));
        const r = Buffer.concat(this.out);
        this.out = [];
        this.size = 0;
        this.count++;
        if (this.opts.noContextTakeover) {
          z.close();
          this.z = null;
        }
        resolve(r);
      });
    });
  }

  close(): void {
    this.z?.close();
    this.z = null;
  }
}

/**
 * Compresses our messages, with context takeover unless told otherwise: in client mode the
 * suite plays a server that uses the context it was allowed, so the client's inflater must keep
 * its window from message to message.
 */
export class Deflater {
  private z: DeflateRaw | null = null;
  private out: Buffer[] = [];

  constructor(private readonly opts: CodecOptions = {}) {}

  /** zlib's raw deflate has no 8-bit window (it becomes 9), but at 9 its farthest match is 2^9 − 262 = 250 bytes back, inside a 256-byte window. */
  private get bits(): number {
    return Math.max(9, this.opts.windowBits ?? 15);
  }

  compress(data: Buffer): Promise<Buffer> {
    if (this.opts.noContextTakeover) return Promise.resolve(compressMessage(data, this.bits));
    if (!this.z) {
      this.z = createDeflateRaw({ windowBits: this.bits });
      this.z.on('data', (d: Buffer) => this.out.push(d));
    }
    const z = this.z;
    return new Promise((resolve, reject) => {
      z.once('error', reject);
      z.write(data);
      z.flush(constants.Z_SYNC_FLUSH, () => {
        z.off('error', reject);
        const all = Buffer.concat(this.out);
        this.out = [];
        resolve(all.length >= 4 && all.subarray(all.length - 4).equals(TAIL) ? all.subarray(0, all.length - 4) : all);
      });
    });
  }

  close(): void {
    this.z?.close();
    this.z = null;
  }
}
