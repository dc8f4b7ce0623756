import { FrameDecoder, Opcode } from '../../src/framing/index.js';
import type { Msg } from './arbitraries.js';

/**
 * Feeds `chunks` to a decoder (no size limit) and reassembles its data frames into messages;
 * ping payloads are kept, other control frames ignored. For the codec's property tests.
 */
export function decodeMessages(chunks: Buffer[], role: 'server' | 'client') {
  const messages: Msg[] = [];
  const pings: string[] = [];
  let parts: Buffer[] = [];
  let error: Error | null = null;
  const decoder = new FrameDecoder(
    {
      onDataFrame(payload, fin, opcode) {
        parts.push(Buffer.from(payload));
        if (fin) {
          messages.push({ binary: opcode === Opcode.Binary, data: Buffer.concat(parts) });
          parts = [];
        }
      },
      onControlFrame(opcode, payload) {
        if (opcode === Opcode.Ping) pings.push(payload.toString('latin1'));
      },
      onDecodeError(e) {
        error = e;
      },
    },
    { role, maxPayload: 0 },
  );
  for (const c of chunks) decoder.push(c);
  return { messages, pings, error, buffered: decoder.bufferedAmount };
}
