/**
 * Type-level checks of the web face's public types (they fail `npm run typecheck`, which
 * compiles the tests, if a listener's event becomes `any` or loses its type), and the same
 * listeners exercised at run time.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { CloseEvent, MessageEvent, WebSocket, WebSocketStream, type WebSocketOpenInfo } from '../../src/web/index.js';
import { nextEvent, sockwireEcho } from './helpers.js';

describe('public types', () => {
  it('type the event of each listener and handler attribute, never any', async () => {
    const peer = await sockwireEcho();
    try {
      const ws = new WebSocket(peer.url);
      const seen: string[] = [];
      ws.onmessage = function (e) {
        expectTypeOf(e).not.toBeAny();
        expectTypeOf(e).toEqualTypeOf<MessageEvent<string | Blob | ArrayBuffer>>();
        expectTypeOf(e.data).toEqualTypeOf<string | Blob | ArrayBuffer>();
        expectTypeOf(this).toEqualTypeOf<WebSocket>();
        seen.push(`message:${String(e.data)}`);
        ws.close(1000);
      };
      ws.addEventListener('close', (e) => {
        expectTypeOf(e).not.toBeAny();
        expectTypeOf(e).toEqualTypeOf<CloseEvent>();
        expectTypeOf(e.code).toEqualTypeOf<number>();
        seen.push(`close:${e.code}`);
      });
      ws.addEventListener('open', (e) => {
        expectTypeOf(e).toEqualTypeOf<Event>();
        seen.push('open');
        ws.send('typed');
      });
      expectTypeOf(ws.readyState).toEqualTypeOf<0 | 1 | 2 | 3>();
      expectTypeOf(ws.binaryType).toEqualTypeOf<'blob' | 'arraybuffer'>();
      expectTypeOf(ws.send).returns.toEqualTypeOf<void>();
      await nextEvent(ws, 'close');
      expect(seen).toEqual(['open', 'message:typed', 'close:1000']);

      const wss = new WebSocketStream(peer.url);
      expectTypeOf(wss.opened).resolves.toEqualTypeOf<WebSocketOpenInfo>();
      const { readable } = await wss.opened;
      expectTypeOf(readable).toEqualTypeOf<ReadableStream<string | Uint8Array>>();
      wss.close();
      expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
    } finally {
      await peer.close();
    }
  });
});
