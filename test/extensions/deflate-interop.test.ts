import { createRequire } from 'node:module';
import path from 'node:path';
import zlib from 'node:zlib';
import { describe, expect, test } from 'vitest';
import type { PerMessageDeflateOptions } from '../../src/extensions/deflate-options.js';
import { clientAccept, clientOffer, serverAccept } from '../../src/extensions/deflate-params.js';
import { createDeflateCodec } from '../../src/extensions/permessage-deflate.js';
import type { ExtensionOffer, MessageCodec } from '../../src/extensions/types.js';
import { compress, decompress, decompressFrames, sameBytes } from './helpers.js';

// ws does not export this module, so load it by file path.
const require = createRequire(import.meta.url);
interface WsPmd {
  offer(): Record<string, string | number | true>;
  accept(configurations: Array<Record<string, Array<string | true>>>): Record<string, string | number | true>;
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, out?: Buffer) => void): void;
  cleanup(): void;
}
const WsPerMessageDeflate = require(path.resolve('node_modules/ws/lib/permessage-deflate.js')) as new (
  options: Record<string, unknown>,
) => WsPmd;

function toWs(ext: ExtensionOffer): Record<string, Array<string | true>> {
  return Object.fromEntries(ext.params.map(([k, v]) => [k, [v]]));
}
function fromWs(params: Record<string, string | number | true>): ExtensionOffer {
  return {
    name: 'permessage-deflate',
    params: Object.entries(params).map(([k, v]): [string, string | true] => [k, v === true ? true : String(v)]),
  };
}
function wsCall(fn: (cb: (err: Error | null, out?: Buffer) => void) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => fn((err, out) => (err ? reject(err) : resolve(out as Buffer))));
}

/** Text-like and binary messages of assorted sizes, repeated so takeover matters. */
const MESSAGES: Buffer[] = (() => {
  const out: Buffer[] = [];
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < 40; i++) {
    const size = [0, 1, 5, 100, 1500, 20_000, 70_000][i % 7] as number;
    const kind = i % 3;
    const b = Buffer.alloc(size);
    for (let j = 0; j < size; j++) b[j] = kind === 0 ? 97 + (j % 7) : kind === 1 ? rnd() & 0xff : 48 + ((j * i) % 10);
    out.push(b);
  }
  return out;
})();

const SETUPS: Array<[string, PerMessageDeflateOptions, PerMessageDeflateOptions]> = [
  ['defaults', {}, {}],
  ['no context takeover', { serverNoContextTakeover: true, clientNoContextTakeover: true }, {}],
  ['small windows requested by the client', { serverMaxWindowBits: 10, clientMaxWindowBits: 9 }, {}],
  ['8-bit windows imposed by the server', {}, { serverMaxWindowBits: 8, clientMaxWindowBits: 8 }],
];

async function exchange(ours: MessageCodec, theirs: WsPmd): Promise<void> {
  for (const message of MESSAGES) {
    const fromUs = await compress(ours, message);
    expect(sameBytes(await wsCall((cb) => theirs.decompress(fromUs, true, cb)), message)).toBe(true);
    // ws compresses in two fragments, so we inflate a two-frame message.
    const half = message.subarray(0, message.length >> 1);
    const rest = message.subarray(message.length >> 1);
    const a = await wsCall((cb) => theirs.compress(half, false, cb));
    const b = await wsCall((cb) => theirs.compress(rest, true, cb));
    expect(sameBytes(await decompressFrames(ours, [a, b]), message)).toBe(true);
  }
}

describe('interop with ws', () => {
  test.each(SETUPS)('%s: ws client, our server', async (_label, clientOpts, serverOpts) => {
    const wsClient = new WsPerMessageDeflate({ ...clientOpts, isServer: false });
    const accepted = serverAccept([fromWs(wsClient.offer())], serverOpts);
    expect(accepted).not.toBeNull();
    wsClient.accept([toWs(accepted!.response)]);
    const server = createDeflateCodec('server', accepted!.agreed, serverOpts);
    try {
      await exchange(server, wsClient);
    } finally {
      server.close();
      wsClient.cleanup();
    }
  });

  test.each(SETUPS)('%s: our client, ws server', async (_label, clientOpts, serverOpts) => {
    const wsServer = new WsPerMessageDeflate({ ...serverOpts, isServer: true });
    const response = wsServer.accept([toWs(clientOffer(clientOpts))]);
    const agreed = clientAccept(fromWs(response), clientOpts);
    const client = createDeflateCodec('client', agreed, clientOpts);
    try {
      await exchange(client, wsServer);
    } finally {
      client.close();
      wsServer.cleanup();
    }
  });
});

describe('interop with zlib used directly', () => {
  const agreed = { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };

  test('our output plus 00 00 ff ff is a valid sync-flushed raw DEFLATE stream', async () => {
    const server = createDeflateCodec('server', agreed);
    const inflate = zlib.createInflateRaw();
    try {
      for (const message of MESSAGES) {
        const out = await compress(server, message);
        const chunks: Buffer[] = [];
        const onData = (c: Buffer): number => chunks.push(c);
        inflate.on('data', onData);
        await new Promise<void>((resolve) => {
          inflate.write(Buffer.concat([out, Buffer.from([0, 0, 0xff, 0xff])]));
          inflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
        });
        inflate.off('data', onData);
        expect(sameBytes(Buffer.concat(chunks), message)).toBe(true);
      }
    } finally {
      server.close();
      inflate.close();
    }
  });

  test('a zlib stream compressor with the trailer stripped is decoded message by message', async () => {
    const client = createDeflateCodec('client', agreed);
    const deflate = zlib.createDeflateRaw({ level: 9 });
    try {
      for (const message of MESSAGES) {
        const chunks: Buffer[] = [];
        const onData = (c: Buffer): number => chunks.push(c);
        deflate.on('data', onData);
        await new Promise<void>((resolve) => {
          deflate.write(message);
          deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => resolve());
        });
        deflate.off('data', onData);
        const wire = Buffer.concat(chunks).subarray(0, -4);
        expect(sameBytes(await decompress(client, wire), message)).toBe(true);
      }
    } finally {
      client.close();
      deflate.close();
    }
  });
});
