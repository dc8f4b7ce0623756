import { crypto } from '../builtins.js';

/**
 * The suite's own frame builder and parser. Deliberately independent of src/framing:
 * a judge must not share code (and therefore bugs) with the implementation it judges.
 * The builder will happily produce invalid frames; that is its purpose.
 */

export const OP = { CONT: 0, TEXT: 1, BINARY: 2, CLOSE: 8, PING: 9, PONG: 10 } as const;

/** RSV bits as a 3-bit number: 4 = RSV1, 2 = RSV2, 1 = RSV3. */
export const RSV1 = 4;
export const RSV2 = 2;
export const RSV3 = 1;

export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  fin?: boolean;
  rsv?: number;
  /** A 4-byte key, `false` for an unmasked frame; defaults to a random key. */
  mask?: Buffer | false;
  /** Force a length encoding, including non-minimal ones the RFC forbids senders to use. */
  lengthForm?: 'minimal' | 16 | 64;
  /** Overrides the declared length (for lying headers); payload bytes are still sent as given. */
  declaredLength?: bigint | number;
}

export function toBuffer(p: Buffer | string | undefined): Buffer {
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

export function maskInPlace(data: Buffer, key: Buffer): void {
  for (let i = 0; i < data.length; i++) data[i] = data[i]! ^ key[i & 3]!;
}

export function buildFrame(spec: FrameSpec): Buffer {
  const payload = toBuffer(spec.payload);
  const fin = spec.fin ?? true;
  const rsv = spec.rsv ?? 0;
  const mask = spec.mask === undefined ? crypto.randomBytes(4) : spec.mask;
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const form =
    spec.lengthForm === undefined || spec.lengthForm === 'minimal'
      ? declared < 126n ? 7 : declared < 65536n ? 16 : 64
      : spec.lengthForm;
  const extLen = form === 7 ? 0 : form === 16 ? 2 : 8;
  const head = Buffer.alloc(2 + extLen + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (spec.opcode & 0x0f);
  const maskBit = mask ? 0x80 : 0;
  if (form === 7) head[1] = maskBit | Number(declared);
  else if (form === 16) {
    head[1] = maskBit | 126;
    head.writeUInt16BE(Number(declared & 0xffffn), 2);
  } else {
    head[1] = maskBit | 127;
    head.writeBigUInt64BE(declared & 0xffffffffffffffffn, 2);
  }
  if (!mask) return Buffer.concat([head, payload]);
  mask.copy(head, 2 + extLen);
  const body = Buffer.from(payload);
  maskInPlace(body, mask);
  return Buffer.concat([head, body]);
}

export function closePayload(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code, 0);
  return Buffer.concat([b, toBuffer(reason)]);
}

export interface ParsedFrame {
  fin: boolean;
  rsv: number;
  opcode: number;
  masked: boolean;
  /** Payload with any mask already removed. */
  payload: Buffer;
  /** Whether the length used the shortest encoding, as RFC 6455 5.2 requires of senders. */
  minimalLength: boolean;
  /** The raw header bytes, for hex logs. */
  header: Buffer;
}

export class FrameTooLargeError extends Error {}

/**
 * Incremental parser. Keeps a list of chunks rather than concatenating on every push, so a
 * 16 MiB echo arriving in 64 KiB reads costs linear, not quadratic, copying.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxPayload: number) {}

  get pending(): number {
    return this.buffered;
  }

  push(chunk: Buffer): ParsedFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const out: ParsedFrame[] = [];
    for (;;) {
      const f = this.tryOne();
      if (!f) return out;
      out.push(f);
    }
  }

  /** Bytes buffered but not yet forming a full frame (used when the peer stops mid-frame). */
  takeRest(): Buffer {
    const b = Buffer.concat(this.chunks);
    this.chunks = [];
    this.buffered = 0;
    return b;
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks).subarray(0, n);
  }

  private consume(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    this.buffered -= n;
    const first = this.chunks[0]!;
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.chunks.shift();
      return first;
    }
    const parts: Buffer[] = [];
    let need = n;
    while (need > 0) {
      const c = this.chunks[0]!;
      if (c.length <= need) {
        parts.push(c);
        this.chunks.shift();
        need -= c.length;
      } else {
        parts.push(c.subarray(0, need));
        this.chunks[0] = c.subarray(need);
        need = 0;
      }
    }
    return Buffer.concat(parts, n);
  }

  private tryOne(): ParsedFrame | null {
    if (this.buffered < 2) return null;
    const h = this.peek(2);
    const b0 = h[0]!;
    const b1 = h[1]!;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const extLen = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headLen = 2 + extLen + (masked ? 4 : 0);
    if (this.buffered < headLen) return null;
    const head = this.peek(headLen);
    let length: number;
    let minimal = true;
    if (len7 === 126) {
      length = head.readUInt16BE(2);
      minimal = length >= 126;
    } else if (len7 === 127) {
      const big = head.readBigUInt64BE(2);
      if (big > BigInt(this.maxPayload)) {
        throw new FrameTooLargeError(`peer announced a ${big}-byte frame (judge limit ${this.maxPayload})`);
      }
      length = Number(big);
      minimal = length >= 65536;
    } else length = len7;
    if (length > this.maxPayload) {
      throw new FrameTooLargeError(`peer announced a ${length}-byte frame (judge limit ${this.maxPayload})`);
    }
    if (this.buffered < headLen + length) return null;
    const header = Buffer.from(this.consume(headLen));
    let payload = this.consume(length);
    if (masked) {
      payload = Buffer.from(payload);
      maskInPlace(payload, header.subarray(headLen - 4));
    }
    return {
      fin: (b0 & 0x80) !== 0,
      rsv: (b0 >> 4) & 7,
      opcode: b0 & 0x0f,
      masked,
      payload,
      minimalLength: minimal,
      header,
    };
  }
}

export function opcodeName(op: number): string {
  switch (op) {
    case 0: return 'CONT';
    case 1: return 'TEXT';
    case 2: return 'BINARY';
    case 8: return 'CLOSE';
    case 9: return 'PING';
    case 10: return 'PONG';
    default: return `RESERVED-${op}`;
  }
}
