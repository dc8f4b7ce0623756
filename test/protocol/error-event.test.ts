import { afterEach, describe, expect, it } from 'vitest';
import { IMPLS, rawClient, startImpl, waitFor, type StartedImpl } from '../server/helpers.js';
import { KEY, rawFrame } from '../framing/helpers.js';

// End to end: a server connection whose peer breaks the protocol emits 'error' with ws's code
// and ws's class, under sockwire as under ws (same scenario run against both).

let server: StartedImpl | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

interface Seen {
  code: unknown;
  range: boolean;
}

async function errorFor(impl: (typeof IMPLS)[number], bytes: Buffer): Promise<Seen> {
  server = await startImpl(impl);
  const seen = new Promise<Seen>((resolve) => {
    server!.wss.on('connection', (ws: { on(e: 'error', l: (err: Error & { code?: unknown }) => void): void }) => {
      ws.on('error', (err) => resolve({ code: err.code, range: err instanceof RangeError }));
    });
  });
  const peer = await rawClient(server.port, { pipelined: bytes });
  const result = await seen;
  await waitFor(peer.socket, 'close');
  return result;
}

describe.each(IMPLS)('%s: the error event of a connection failed by its peer', (impl) => {
  it('a reserved opcode: RangeError, WS_ERR_INVALID_OPCODE', async () => {
    expect(await errorFor(impl, rawFrame({ opcode: 3, mask: KEY }))).toEqual({ code: 'WS_ERR_INVALID_OPCODE', range: true });
  });

  it('text that is not UTF-8: a plain Error, WS_ERR_INVALID_UTF8', async () => {
    expect(await errorFor(impl, rawFrame({ opcode: 1, payload: Buffer.from([0xc3, 0x28]), mask: KEY }))).toEqual({
      code: 'WS_ERR_INVALID_UTF8',
      range: false,
    });
  });

  it('a Close with status 1005: RangeError, WS_ERR_INVALID_CLOSE_CODE', async () => {
    expect(await errorFor(impl, rawFrame({ opcode: 8, payload: Buffer.from([0x03, 0xed]), mask: KEY }))).toEqual({
      code: 'WS_ERR_INVALID_CLOSE_CODE',
      range: true,
    });
  });
});
