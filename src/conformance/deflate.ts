import { constants, createInflateRaw, deflateRawSync, type InflateRaw } from 'node:zlib';

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

/** One message, compressed without context takeover (always allowed for the sender). */
export function compressMessage(data: Buffer, windowBits = 15): Buffer {
  const out = deflateRawSync(data, { windowBits: Math.max(9, windowBits), finishFlush: constants.Z_SYNC_FLUSH });
  return out.subarray(out.length - 4).equals(TAIL) ? out.subarray(0, out.length - 4) : out;
}

/** Inflates the peer's messages with one persistent context, since the peer may use context takeover. */
export class Inflater {
  private readonly z: InflateRaw = createInflateRaw({ windowBits: 15 });
  private out: Buffer[] = [];
  private size = 0;
  private error: Error | null = null;

  constructor() {
    this.z.on('data', (d: Buffer) => {
      this.size += d.length;
      if (this.size <= MAX_INFLATED) this.out.push(d);
    });
    this.z.on('error', (e) => (this.error = e));
  }

  inflate(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.error) return reject(this.error);
      // A zlib error destroys the stream and the flush callback never runs: reject from the error instead.
      const onError = (e: Error): void => reject(e);
      this.z.once('error', onError);
      this.z.write(Buffer.concat([data, TAIL]));
      this.z.flush(constants.Z_SYNC_FLUSH, () => {
        this.z.off('error', onError);
        if (this.error) return reject(this.error);
        if (this.size > MAX_INFLATED) return reject(new Error(`inflates to more than ${MAX_INFLATED} bytes`));
        const r = Buffer.concat(this.out);
        this.out = [];
        this.size = 0;
        resolve(r);
      });
    });
  }

  close(): void {
    this.z.close();
  }
}
