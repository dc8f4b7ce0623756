import type { ClientRequest } from 'node:http';
import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startClient, type ClientHost } from '../../src/client/connect.js';
import type { ClientOptions } from '../../src/client/options.js';
import { parseClientUrl } from '../../src/client/url.js';
import type { AttachOptions } from '../../src/connection/connection.js';
import { until } from '../server/helpers.js';
import { rawHttp, switching, type RawHttp } from './helpers.js';

/**
 * The connector on its own, driven through a recording ClientHost: the calls a host gets
 * and the rules that differ between the ws face and the web face.
 */
class RecordingHost implements ClientHost {
  readyState = 0;
  readonly calls: string[] = [];
  attached: AttachOptions | null = null;
  error: Error | null = null;
  face?: object;

  setConnecting(url: string, socket: Duplex | null): void {
    this.calls.push(`setConnecting ${url} ${socket === null ? 'null' : 'socket'}`);
  }
  abortHandshake(err: Error): void {
    this.calls.push('abortHandshake');
    this.error = err;
    this.readyState = 2;
  }
  attach(socket: Duplex, options: AttachOptions): void {
    this.calls.push('attach');
    this.attached = options;
    this.readyState = 1;
    socket.destroy();
  }
  feed(head: Buffer): void {
    this.calls.push(`feed ${head.length}`);
  }
  emit(event: string): boolean {
    this.calls.push(`emit ${event}`);
    return false;
  }
}

let server: RawHttp;
beforeAll(async () => {
  // Answers every request with a 101 that names no subprotocol.
  server = await rawHttp((_head, key) => switching(key));
});
afterAll(() => server.close());

async function connect(host: RecordingHost, protocols: string[], options: ClientOptions = {}, face?: 'ws' | 'web'): Promise<void> {
  startClient(host, `ws://${server.where}/path`, protocols, options, face);
  await until(() => host.readyState !== 0, 3000, 'the handshake to end');
}

describe('the calls a host gets', () => {
  it('setConnecting without, then with the socket; upgrade; attach; feed', async () => {
    const host = new RecordingHost();
    await connect(host, []);
    const url = `ws://${server.where}/path`;
    expect(host.calls).toEqual([`setConnecting ${url} null`, `setConnecting ${url} socket`, 'emit upgrade', 'attach', 'feed 0']);
    expect(host.attached).toMatchObject({ role: 'client', protocol: '', validateUtf8: true });
  });

  it('finishRequest gets host.face, or the host itself when it has none', async () => {
    for (const face of [{ the: 'face' }, undefined]) {
      const host = new RecordingHost();
      if (face) host.face = face;
      let given: unknown;
      await connect(host, [], {
        finishRequest: (req: ClientRequest, websocket: unknown) => {
          given = websocket;
          req.end();
        },
      });
      expect(given).toBe(face ?? host);
    }
  });
});

describe('ws and web rules', () => {
  // Fetch's "establish a WebSocket connection" fails it too (browsers: "Sent non-empty
  // 'Sec-WebSocket-Protocol' header but no response was received").
  it('no subprotocol in the answer when some were offered: both faces fail', async () => {
    for (const face of ['ws', 'web'] as const) {
      const host = new RecordingHost();
      await connect(host, ['chat'], {}, face);
      expect(host.error?.message).toBe('Server sent no subprotocol');
      expect(host.attached).toBeNull();
    }
  });

  it('an empty fragment and ws+unix: are SyntaxErrors only under the web rules', () => {
    expect(parseClientUrl('ws://h/#', 'ws').href).toBe('ws://h/#');
    expect(() => parseClientUrl('ws://h/#', 'web')).toThrow(new SyntaxError('The URL contains a fragment identifier'));
    expect(parseClientUrl('ws+unix:/tmp/s.sock:/p', 'ws')).toMatchObject({ ipc: true, socketPath: '/tmp/s.sock', path: '/p', hostname: '' });
    expect(() => parseClientUrl('ws+unix:/tmp/s.sock', 'web')).toThrow(new SyntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", or "https:"'));
  });

  it('a caller\'s URL object is not changed when http: is mapped to ws:', () => {
    const url = new URL('http://h/x');
    expect(parseClientUrl(url).href).toBe('ws://h/x');
    expect(url.href).toBe('http://h/x');
  });
});
