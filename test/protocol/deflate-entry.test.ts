import { describe, expect, it } from 'vitest';
import { createDeflateCodec, type DeflateAgreement } from '../../src/protocol/index.js';
import { agreement } from '../extensions/helpers.js';
import { pumpAll, recordingProtocol } from './pair.js';
import { parseWire } from './wire.js';

/**
 * sockwire/protocol hands sans-I/O users the permessage-deflate codec the socket path uses:
 * two cores given codecs for the same agreement talk compressed to each other.
 */
/** Resolves at the next push onto `list` (a side's output or its received messages). */
function nextPush(list: unknown[]): Promise<void> {
  return new Promise((resolve) => {
    const push = list.push.bind(list);
    list.push = (...items: unknown[]): number => {
      list.push = push;
      const n = push(...items);
      resolve();
      return n;
    };
  });
}

describe('createDeflateCodec from sockwire/protocol', () => {
  it.each<[string, DeflateAgreement]>([
    ['context takeover, 15-bit windows', agreement()],
    ['no context takeover, 10-bit windows', agreement({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 })],
  ])('%s: messages both ways leave with RSV1, smaller, and arrive whole', async (_name, agreed) => {
    const client = recordingProtocol({ role: 'client', codec: createDeflateCodec('client', agreed) });
    const server = recordingProtocol({ role: 'server', codec: createDeflateCodec('server', agreed) });
    const text = '{"user":"alice","text":"hello again"}'.repeat(100);
    const bytes = Buffer.alloc(8192, 7);
    // zlib works off the main thread: each side's frame is written when its deflate is done,
    // and each message reported when its inflate is.
    const written = Promise.all([nextPush(client.out), nextPush(server.out)]);
    const received = Promise.all([nextPush(client.messages), nextPush(server.messages)]);
    client.protocol.send(text, false);
    server.protocol.send(bytes, true);
    await written;
    pumpAll(client, server);
    await received;
    expect(server.messages.map((m) => [m.data.toString(), m.isBinary])).toEqual([[text, false]]);
    expect(client.messages.map((m) => [m.data.equals(bytes), m.isBinary])).toEqual([[true, true]]);
  });

  it('the frames on the wire are compressed (RSV1, payload far smaller than the message)', async () => {
    const server = recordingProtocol({ role: 'server', codec: createDeflateCodec('server', agreement(), { threshold: 0 }) });
    const written = nextPush(server.out);
    server.protocol.send('abc'.repeat(2000), false);
    await written;
    const frames = parseWire(server.out);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.rsv1).toBe(true);
    expect(frames[0]!.payload.length).toBeLessThan(100);
  });
});
