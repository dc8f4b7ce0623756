// Records the frames a server-side socket writes, as the peer will read them: for checking
// which messages went out compressed (RSV1) and with what payload, beside what the peer decoded.
import type { WebSocket } from '../../src/index.js';

export interface TappedFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** Taps `ws`'s transport from now on; `frames()` parses what was written so far (server frames, unmasked). */
export function tapFrames(ws: WebSocket): { frames(): TappedFrame[] } {
  const socket = ws.socket!;
  const chunks: Buffer[] = [];
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  socket.write = ((chunk: unknown, ...rest: unknown[]) => {
    chunks.push(Buffer.from(chunk as Buffer));
    return write(chunk, ...rest);
  }) as typeof socket.write;
  return {
    frames() {
      const bytes = Buffer.concat(chunks);
      const frames: TappedFrame[] = [];
      let at = 0;
      while (at + 2 <= bytes.length) {
        const b0 = bytes[at]!;
        let length = bytes[at + 1]! & 0x7f;
        let header = 2;
        if (length === 126) {
          length = bytes.readUInt16BE(at + 2);
          header = 4;
        } else if (length === 127) {
          length = Number(bytes.readBigUInt64BE(at + 2));
          header = 10;
        }
        if (at + header + length > bytes.length) throw new Error('a frame was cut short in the tap');
        frames.push({ fin: (b0 & 0x80) !== 0, rsv1: (b0 & 0x40) !== 0, opcode: b0 & 0x0f, payload: bytes.subarray(at + header, at + header + length) });
        at += header + length;
      }
      return frames;
    },
  };
}
