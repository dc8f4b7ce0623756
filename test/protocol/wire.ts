/** A frame as it appeared on the wire, parsed independently of the decoder under test. */
export interface WireFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  /** Unmasked payload. */
  payload: Buffer;
}

/** Parses a complete byte stream of well-formed frames (throws on a truncated one). */
export function parseWire(chunks: Buffer[] | Buffer): WireFrame[] {
  return parse(chunks, false);
}

/** The complete frames at the start of a stream that may end inside a frame. */
export function parseWirePrefix(chunks: Buffer[] | Buffer): WireFrame[] {
  return parse(chunks, true);
}

function parse(chunks: Buffer[] | Buffer, prefixOnly: boolean): WireFrame[] {
  const bytes = Buffer.isBuffer(chunks) ? chunks : Buffer.concat(chunks);
  const frames: WireFrame[] = [];
  let o = 0;
  while (o < bytes.length) {
    if (prefixOnly && !complete(bytes, o)) break;
    if (o + 2 > bytes.length) throw new Error('truncated frame header');
    const b0 = bytes[o]!;
    const b1 = bytes[o + 1]!;
    o += 2;
    let len = b1 & 0x7f;
    if (len === 126) {
      len = bytes.readUInt16BE(o);
      o += 2;
    } else if (len === 127) {
      len = Number(bytes.readBigUInt64BE(o));
      o += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let key: Buffer | null = null;
    if (masked) {
      key = bytes.subarray(o, o + 4);
      o += 4;
    }
    if (o + len > bytes.length) throw new Error('truncated frame payload');
    const payload = Buffer.from(bytes.subarray(o, o + len));
    if (key) for (let i = 0; i < payload.length; i++) payload[i]! ^= key[i & 3]!;
    o += len;
    frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, masked, payload });
  }
  return frames;
}

/** The code and reason of a Close frame payload (code undefined when empty). */
export function closeOf(frame: WireFrame): { code: number | undefined; reason: string } {
  if (frame.payload.length === 0) return { code: undefined, reason: '' };
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}

/** Whether a whole frame starts at `o`. */
function complete(bytes: Buffer, o: number): boolean {
  if (o + 2 > bytes.length) return false;
  const b1 = bytes[o + 1]!;
  let len = b1 & 0x7f;
  let head = 2;
  if (len === 126) {
    if (o + 4 > bytes.length) return false;
    len = bytes.readUInt16BE(o + 2);
    head = 4;
  } else if (len === 127) {
    if (o + 10 > bytes.length) return false;
    len = Number(bytes.readBigUInt64BE(o + 2));
    head = 10;
  }
  if (b1 & 0x80) head += 4;
  return o + head + len <= bytes.length;
}
