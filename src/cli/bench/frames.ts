/**
 * The few frames the load generator sends, built once and reused, and a reply parser that counts
 * messages without copying payloads.
 *
 * Every client frame uses one fixed masking key. RFC 6455 §10.3 asks for unpredictable keys so a
 * hostile script in a browser cannot choose the bytes a proxy sees; a command-line load generator
 * pointed at your own server has no such attacker, and a constant key is what lets each message
 * be masked once for the whole run instead of once per send.
 */

export const FIXED_MASK = Buffer.from([0x5a, 0x17, 0xc3, 0x9e]);

/** One complete, masked, final frame. */
export function buildClientFrame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const ext = len > 0xffff ? 8 : len > 125 ? 2 : 0;
  const head = 2 + ext + 4;
  const out = Buffer.allocUnsafe(head + len);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | (ext === 8 ? 127 : ext === 2 ? 126 : len);
  if (ext === 2) out.writeUInt16BE(len, 2);
  else if (ext === 8) out.writeBigUInt64BE(BigInt(len), 2);
  FIXED_MASK.copy(out, 2 + ext);
  for (let i = 0; i < len; i++) out[head + i] = payload[i]! ^ FIXED_MASK[i & 3]!;
  return out;
}

/** Printable ASCII for text messages (always valid UTF-8), arbitrary bytes for binary ones. */
export function makePayload(size: number, text: boolean): Buffer {
  const out = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) out[i] = text ? 0x21 + (i % 94) : (i * 131 + 7) & 0xff;
  return out;
}

/** Close 1000, sent when the run ends. */
export const CLOSE_FRAME = buildClientFrame(0x8, Buffer.from([0x03, 0xe8]));

export class ReplyError extends Error {}

/**
 * Counts complete messages in the server's byte stream. Data payloads are skipped, never copied,
 * so memory per connection is a 14-byte header buffer plus at most one 125-byte control payload.
 * It checks what is cheap to check (unmasked frames, no RSV bits since nothing was negotiated,
 * sane fragmentation and control frames) and throws ReplyError otherwise.
 */
export class ReplyParser {
  /** Payload bytes of data frames seen so far. */
  payloadBytes = 0;
  /** Messages whose length differed from `expectedSize` (the server is not a plain echo). */
  wrongSize = 0;
  /** The server's close code once a Close frame arrived (1005 when it had none). */
  closeCode: number | undefined;

  private readonly header = Buffer.alloc(14);
  private have = 0;
  private skip = 0;
  private inMessage = false;
  private messageBytes = 0;
  private frameEndsMessage = false;
  private control: Buffer | undefined;
  private controlOpcode = 0;
  private controlAt = 0;

  constructor(
    private readonly expectedSize: number,
    private readonly onPing: (payload: Buffer) => void,
  ) {}

  /** Returns how many messages this chunk completed. */
  push(chunk: Buffer): number {
    let done = 0;
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.skip > 0) {
        const take = this.skip < n - i ? this.skip : n - i;
        if (this.control !== undefined) {
          chunk.copy(this.control, this.controlAt, i, i + take);
          this.controlAt += take;
        } else {
          this.payloadBytes += take;
          this.messageBytes += take;
        }
        this.skip -= take;
        i += take;
        if (this.skip === 0) done += this.frameDone();
        continue;
      }
      let src: Buffer;
      let at: number;
      if (this.have === 0 && n - i >= 2 && n - i >= headerLength(chunk[i + 1]!)) {
        src = chunk;
        at = i;
        i += headerLength(chunk[i + 1]!);
      } else {
        this.header[this.have++] = chunk[i++]!;
        if (this.have < 2 || this.have < headerLength(this.header[1]!)) continue;
        src = this.header;
        at = 0;
        this.have = 0;
      }
      this.startFrame(src, at);
      if (this.skip === 0) done += this.frameDone();
    }
    return done;
  }

  private startFrame(src: Buffer, at: number): void {
    const b0 = src[at]!;
    const b1 = src[at + 1]!;
    if (b0 & 0x70) throw new ReplyError('server set RSV bits though no extension was negotiated');
    if (b1 & 0x80) throw new ReplyError('server sent a masked frame');
    const len7 = b1 & 0x7f;
    const length = len7 === 126 ? src.readUInt16BE(at + 2) : len7 === 127 ? Number(src.readBigUInt64BE(at + 2)) : len7;
    if (!Number.isSafeInteger(length)) throw new ReplyError('server sent an impossible frame length');
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (opcode >= 8) {
      if (opcode > 10) throw new ReplyError(`server sent reserved opcode ${opcode}`);
      if (!fin || length > 125) throw new ReplyError('server sent a fragmented or oversized control frame');
      this.control = Buffer.allocUnsafe(length);
      this.controlOpcode = opcode;
      this.controlAt = 0;
    } else {
      if (opcode > 2) throw new ReplyError(`server sent reserved opcode ${opcode}`);
      if ((opcode === 0) !== this.inMessage) throw new ReplyError(opcode === 0 ? 'server sent a continuation with no message to continue' : 'server started a message inside another');
      if (opcode !== 0) this.messageBytes = 0;
      this.inMessage = !fin;
      this.frameEndsMessage = fin;
    }
    this.skip = length;
  }

  private frameDone(): number {
    const control = this.control;
    if (control !== undefined) {
      this.control = undefined;
      if (this.controlOpcode === 0x9) this.onPing(control);
      else if (this.controlOpcode === 0x8) this.closeCode = control.length >= 2 ? control.readUInt16BE(0) : 1005;
      return 0;
    }
    if (!this.frameEndsMessage) return 0;
    this.frameEndsMessage = false;
    if (this.messageBytes !== this.expectedSize) this.wrongSize++;
    return 1;
  }
}

function headerLength(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (b1 & 0x80 ? 4 : 0);
}
